/* test-message.c - one message through message.c as libmilter would drive it:
 * stored bytes, hash, forged headers, record policies, spool failure answers. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-text.h"
#include "message.h"
#include "record.h"
#include "tagger.h"
#include "tap.h"

static char dir[] = "/tmp/mailroom-test-msg-XXXXXX";

/* read_new - the one record in new/; its stored bytes in *stored_r */
static int read_new(struct record *r, char **stored_r)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/new", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int fd = -1;
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/new/%s", dir, e->d_name);
			fd = open(path, O_RDONLY);
			unlink(path); /* one record per case */
			break;
		}
	if (d)
		closedir(d);
	char err[256];
	if (fd < 0 || record_read(fd, r, err, sizeof(err)) < 0)
		return -1;
	*stored_r = calloc(1, r->stored_len + 1);
	if (pread(fd, *stored_r, r->stored_len, 0) != (ssize_t)r->stored_len)
		return -1;
	close(fd);
	return 0;
}

/* feed - a small message with forged headers, folded Subject and a body */
static enum msg_action feed(struct msg *m)
{
	msg_header(m, "Received", " from x by y;\n\tSun, 22 Nov 2026 10:00:00 +0000");
	msg_header(m, "X-Mailroom-Class", " customer");
	msg_header(m, "Subject", " Order 4711,\n\tplease");
	msg_header(m, "x-mailroom-class", " vip");
	msg_header(m, "Message-ID", " <abc@customer.test>");
	msg_header(m, "X-Mailroom-Id", " 00000000-0000-7000-8000-000000000000");
	msg_header(m, "X-Empty", "");
	msg_eoh(m);
	msg_body(m, (const unsigned char *)"Hello\r\n", 7);
	msg_body(m, (const unsigned char *)"Bye\r\n", 5);
	return msg_eom(m, "QID1");
}

static const char want_headers[] = "Received: from x by y;\r\n\tSun, 22 Nov 2026 10:00:00 +0000\r\n"
				   "X-Mailroom-Class: customer\r\n"
				   "Subject: Order 4711,\r\n\tplease\r\n"
				   "x-mailroom-class: vip\r\n"
				   "Message-ID: <abc@customer.test>\r\n"
				   "X-Mailroom-Id: 00000000-0000-7000-8000-000000000000\r\n"
				   "X-Empty:\r\n"
				   "\r\n";
static const char want_body[] = "Hello\r\nBye\r\n";

int main(void)
{
	char err[256];
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	struct spool *spool = spool_open(dir, 8, 0, err, sizeof(err));
	ok(spool != NULL, "spool");
	struct mailroom_conf *conf = conf_from_text("gateway = {\n"
						    "  local_domains = [\"example.com\"];\n"
						    "  shared_inboxes = [\"info@example.com\"];\n"
						    "  personal_policy = \"metadata\";\n"
						    "};\n"
						    "milter = { gateway_name = \"gw-test\"; };\n");
	struct gateway *gw = gateway_new(conf, err, sizeof(err));

	struct msg_conn *conn = msg_conn_new("mx.customer.test", "203.0.113.5");
	msg_conn_helo(conn, "mx.customer.test");

	/* 1. Inbound to a shared inbox: full record. */
	const char *args[] = {"SIZE=99", "BODY=8BITMIME", NULL};
	struct msg *m = msg_new(conn, gw, spool, "<bob@customer.test>", args, "smtpd", NULL);
	const char *rargs[] = {"NOTIFY=NEVER", NULL};
	msg_rcpt(m, "<Info@Example.com>", rargs);
	msg_rcpt(m, "<anna@example.com>", NULL);
	is_int(feed(m), MSG_ACCEPT, "full: accepted");
	ok(msg_recorded(m), "full: recorded");
	is_int(m->n_strip, 3, "three forged headers to remove");
	is_str(m->strip[0].name, "X-Mailroom-Class", "first forged name");
	is_int(m->strip[0].index, 1, "first occurrence");
	is_int(m->strip[1].index, 2, "same name in other case counts as the second occurrence");
	is_str(m->strip[2].name, "X-Mailroom-Id", "a forged id is removed too");
	is_str(direction_name(m->dir), "inbound", "untrusted client: inbound");
	char id[UUID_TEXT_LEN + 1];
	memcpy(id, m->rec.id, sizeof(id));
	msg_free(&m);
	ok(m == NULL, "msg_free clears the pointer");

	struct record r;
	char *stored = NULL;
	ok(read_new(&r, &stored) == 0, "full: record in new/");
	size_t hl = strlen(want_headers), bl = strlen(want_body);
	is_int(r.stored_len, hl + bl, "full: stored length");
	ok(stored && memcmp(stored, want_headers, hl) == 0 && memcmp(stored + hl, want_body, bl) == 0,
	   "full: stored bytes are the message, folded lines as CRLF");
	uint8_t h[32];
	crypto_hash_sha256(h, (const unsigned char *)stored, r.stored_len);
	ok(memcmp(h, r.sha256, 32) == 0, "full: SHA-256 covers the stored bytes");
	is_str(r.id, id, "record id");
	is_str(r.subject, "Order 4711,\tplease", "subject unfolded");
	is_str(r.message_id, "<abc@customer.test>", "message id");
	is_str(r.mail_from, "bob@customer.test", "sender without brackets");
	is_str(r.mail_from_args, "SIZE=99 BODY=8BITMIME", "MAIL FROM arguments");
	is_int(r.n_rcpt, 2, "recipients");
	is_str(r.rcpt[0], "Info@Example.com", "recipient kept as given");
	is_str(r.rcpt_args[0], "NOTIFY=NEVER", "RCPT arguments");
	is_str(r.queue_id, "QID1", "queue id");
	is_str(r.policy, "full", "policy");
	is_str(r.gateway, "gw-test", "gateway name");
	is_str(r.client_addr, "203.0.113.5", "client address");
	is_str(r.helo, "mx.customer.test", "helo");
	record_clear(&r);
	free(stored);

	/* 2. Personal mailbox under metadata: header section only, hash over everything. */
	m = msg_new(conn, gw, spool, "<bob@customer.test>", NULL, "smtpd", NULL);
	msg_rcpt(m, "<anna@example.com>", NULL);
	is_int(feed(m), MSG_ACCEPT, "metadata: accepted");
	msg_free(&m);
	ok(read_new(&r, &stored) == 0, "metadata: record in new/");
	is_int(r.stored_len, hl, "metadata: only the header section is stored");
	is_int(r.size, hl + bl, "metadata: size of the whole message");
	char whole[512];
	snprintf(whole, sizeof(whole), "%s%s", want_headers, want_body);
	crypto_hash_sha256(h, (const unsigned char *)whole, hl + bl);
	ok(memcmp(h, r.sha256, 32) == 0, "metadata: SHA-256 of the whole message");
	is_str(r.policy, "metadata", "policy metadata");
	record_clear(&r);
	free(stored);

	/* 3. Outbound from a shared inbox through the originating service. */
	m = msg_new(conn, gw, spool, "<info@example.com>", NULL, "ORIGINATING", NULL);
	msg_rcpt(m, "<bob@customer.test>", NULL);
	is_int(feed(m), MSG_ACCEPT, "outbound: accepted");
	is_str(direction_name(m->dir), "outbound", "outbound: direction");
	msg_free(&m);
	ok(read_new(&r, &stored) == 0, "outbound: recorded in full (the sender is a shared inbox)");
	is_str(r.policy, "full", "outbound: policy");
	record_clear(&r);
	free(stored);

	/* 4. Personal policy none: no record, no id, still cleaned. */
	gw->conf->personal_policy = POLICY_NONE;
	m = msg_new(conn, gw, spool, "<bob@customer.test>", NULL, "smtpd", NULL);
	msg_rcpt(m, "<anna@example.com>", NULL);
	is_int(feed(m), MSG_ACCEPT, "none: accepted");
	ok(!msg_recorded(m), "none: not recorded");
	is_int(m->n_strip, 3, "none: forged headers are still removed");
	msg_free(&m);
	is_int(spool_ready_count(spool), 0, "none: nothing in new/");

	/* 5. Aborted transaction: the partial file goes away. */
	m = msg_new(conn, gw, spool, "<bob@customer.test>", NULL, "smtpd", NULL);
	msg_rcpt(m, "<info@example.com>", NULL);
	msg_header(m, "Subject", " half");
	msg_free(&m);
	char tmpdir[600];
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
	DIR *d = opendir(tmpdir);
	int left = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		left += e->d_name[0] != '.';
	closedir(d);
	is_int(left, 0, "abort: no partial file left in tmp/");

	/* 6. Spool failure: the answer follows on_spool_failure. */
	ok(rmdir(tmpdir) == 0, "tmp/ removed to make the spool fail");
	static const struct {
		int setting;
		enum msg_action want;
	} fail[] = {{SPOOL_FAIL_TEMPFAIL, MSG_TEMPFAIL}, {SPOOL_FAIL_REJECT, MSG_REJECT}, {SPOOL_FAIL_ACCEPT, MSG_ACCEPT}};
	for (size_t i = 0; i < 3; i++) {
		gw->conf->milter_on_spool_failure = fail[i].setting;
		m = msg_new(conn, gw, spool, "<bob@customer.test>", NULL, "smtpd", NULL);
		msg_rcpt(m, "<info@example.com>", NULL);
		is_int(feed(m), fail[i].want, "spool failure, setting %zu", i);
		ok(!msg_recorded(m), "spool failure: never claims a record");
		msg_free(&m);
	}

	/* 7. The class tag: from the cached address book (here only our own
	 * domains) and the header section. A fresh spool brings tmp/ back. */
	spool_close(&spool);
	spool = spool_open(dir, 8, 0, err, sizeof(err));
	ok(spool != NULL, "spool reopened");
	gw->conf->milter_on_spool_failure = SPOOL_FAIL_TEMPFAIL;
	gw->conf->personal_policy = POLICY_FULL;
	tagger_init(gw->conf);
	m = msg_new(conn, gw, spool, "<news@shop.test>", NULL, "smtpd", NULL);
	msg_rcpt(m, "<info@example.com>", NULL);
	msg_header(m, "From", " Shop <news@shop.test>");
	msg_header(m, "List-Unsubscribe", " <mailto:u@shop.test>");
	msg_header(m, "Subject", " Deals");
	is_int(msg_eom(m, "QID2"), MSG_ACCEPT, "tag: accepted");
	is_str(m->class_name, "newsletter", "tag: bulk mail from an unknown sender is a newsletter");
	msg_free(&m);
	m = msg_new(conn, gw, spool, "<bob@customer.test>", NULL, "smtpd", NULL);
	msg_rcpt(m, "<info@example.com>", NULL);
	is_int(feed(m), MSG_ACCEPT, "tag: accepted");
	ok(m->class_name == NULL, "tag: nothing decides an unknown sender: no X-Mailroom-Class");
	msg_free(&m);
	m = msg_new(conn, gw, spool, "<info@example.com>", NULL, "ORIGINATING", NULL);
	msg_rcpt(m, "<service@example.com>", NULL);
	msg_header(m, "From", " <info@example.com>");
	is_int(msg_eom(m, "QID3"), MSG_ACCEPT, "tag: accepted");
	is_str(m->class_name, "internal", "tag: internal mail");
	msg_free(&m);
	tagger_shutdown();

	msg_conn_free(&conn);
	gateway_unref(&gw);
	spool_close(&spool);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
