/* test-record.c - spool record trailers: round trip, odd bytes, damage. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "record.h"
#include "tap.h"

/* write_file - body then trailer into a temporary file; its fd */
static int write_file(const char *body, size_t blen, const char *tail, size_t tlen)
{
	char path[] = "/tmp/mailroom-test-record-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (write(fd, body, blen) != (ssize_t)blen || write(fd, tail, tlen) != (ssize_t)tlen)
		return -1;
	return fd;
}

int main(void)
{
	struct record r = {0}, back;
	char err[256];
	snprintf(r.id, sizeof(r.id), "%s", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b");
	r.received_us = 1732000000123456LL;
	record_set(&r.gateway, "gw1");
	record_set(&r.direction, "inbound");
	record_set(&r.policy, "full");
	record_set(&r.queue_id, "4XyZ1");
	record_set(&r.client_addr, "203.0.113.5");
	record_set(&r.helo, "weird\nhelo with newline and \xff byte");
	record_set(&r.mail_from, "");
	record_set(&r.mail_from_args, "SIZE=100 BODY=8BITMIME");
	record_add_rcpt(&r, "info@example.com", "NOTIFY=NEVER");
	record_add_rcpt(&r, "a b@example.com", "");
	record_set(&r.subject, "Gr\xc3\xbc\xc3\x9f" "e 5 3\n");
	r.size = 1234;
	for (int i = 0; i < 32; i++)
		r.sha256[i] = (uint8_t)(i * 7);

	char *tail;
	size_t tlen;
	ok(record_encode_trailer(&r, &tail, &tlen) == 0, "encode");
	const char body[] = "Subject: x\r\n\r\nbody\r\nMRREC1 0000000000000000\n";
	int fd = write_file(body, sizeof(body) - 1, tail, tlen);
	ok(record_read(fd, &back, err, sizeof(err)) == 0, "read back: %s", err);
	is_int(back.stored_len, sizeof(body) - 1, "stored bytes end where the trailer starts");
	is_str(back.id, r.id, "id");
	is_int(back.received_us, r.received_us, "received_us");
	is_str(back.helo, r.helo, "a field with LF and a raw byte survives");
	is_str(back.mail_from, "", "the null sender is kept as empty");
	is_int(back.n_rcpt, 2, "two recipients");
	is_str(back.rcpt[1], "a b@example.com", "second recipient");
	is_str(back.rcpt_args[0], "NOTIFY=NEVER", "recipient arguments pair with their recipient");
	is_str(back.rcpt_args[1], "", "empty arguments");
	is_str(back.subject, r.subject, "subject");
	ok(back.message_id == NULL, "absent field stays NULL");
	is_int(back.size, 1234, "size");
	ok(memcmp(back.sha256, r.sha256, 32) == 0, "sha256");
	record_clear(&back);
	close(fd);

	/* Damage: each must be refused, never half-read. */
	fd = write_file(body, sizeof(body) - 1, tail, tlen - 1);
	ok(record_read(fd, &back, err, sizeof(err)) < 0, "truncated footer refused: %s", err);
	close(fd);
	fd = write_file("", 0, "", 0);
	ok(record_read(fd, &back, err, sizeof(err)) < 0, "empty file refused: %s", err);
	close(fd);
	char *bad = malloc(tlen);
	memcpy(bad, tail, tlen);
	bad[3] = '9'; /* "id 36" becomes "id 96": longer than the trailer allows */
	fd = write_file(body, sizeof(body) - 1, bad, tlen);
	ok(record_read(fd, &back, err, sizeof(err)) < 0, "bad field length refused: %s", err);
	close(fd);
	memcpy(bad, tail, tlen);
	memcpy(bad + tlen - 17, "ffffffffffffffff", 16);
	fd = write_file(body, sizeof(body) - 1, bad, tlen);
	ok(record_read(fd, &back, err, sizeof(err)) < 0, "huge trailer length refused: %s", err);
	close(fd);
	free(bad);
	const char no_id[] = "direction 7\ninbound\nMRREC1 000000000000000a\n";
	fd = write_file(no_id, sizeof(no_id) - 1, "", 0);
	ok(record_read(fd, &back, err, sizeof(err)) < 0, "a trailer without id is refused: %s", err);
	close(fd);
	free(tail);
	record_clear(&r);
	return done_testing();
}
