/* test-msgflags-corpus.c - msgflags on real mail, when ../shared/corpus is there.
 *
 * On spamassassin/easy-ham-1, MSGFLAG_MAILING_LIST must agree with a label
 * this test computes on its own from the raw header section ("has List-Id
 * or List-Unsubscribe or Precedence bulk/list") for at least 99% of the
 * messages; the disagreements are listed. For every spamassassin folder the
 * bounces, auto-replies, out-of-office replies and bulk messages found are
 * counted, for a person to judge.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimeparse.h"
#include "msgflags.h"
#include "rawheaders.h"
#include "tap.h"

#define FILE_MAX      (64u << 20)
#define AGREEMENT_MIN 0.99
#define SHOW_MAX      40 /* files named per kind of finding */

struct folder_stats {
	unsigned files, parsed, refused;
	unsigned bounce, auto_reply, ooo, list;
	unsigned labelled, agree; /* easy-ham-1 only */
};

/* slurp - a whole file, up to FILE_MAX; NULL when unreadable */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *data = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && (unsigned long long)st.st_size <= FILE_MAX &&
	    (data = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t n;
		*len = 0;
		while (*len < (size_t)st.st_size &&
		       (n = read(fd, data + *len, (size_t)st.st_size - *len)) > 0)
			*len += (size_t)n;
		data[*len] = '\0';
	}
	if (fd >= 0)
		close(fd);
	return data;
}

/* bulk_label - the independent label: a List-Id or List-Unsubscribe field,
 * or Precedence bulk or list, in the top-level header section */
static int bulk_label(const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len;
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) { /* an mbox separator line */
		const char *nl = memchr(p, '\n', len);
		p = nl ? nl + 1 : end;
	}
	while (p < end && *p != '\n' && *p != '\r') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n >= 8 && strncasecmp(p, "List-Id:", 8) == 0)
			return 1;
		if (n >= 17 && strncasecmp(p, "List-Unsubscribe:", 17) == 0)
			return 1;
		if (n >= 11 && strncasecmp(p, "Precedence:", 11) == 0) {
			const char *v = p + 11;
			while (v < p + n && (*v == ' ' || *v == '\t'))
				v++;
			size_t left = (size_t)(p + n - v);
			if ((left >= 4 && strncasecmp(v, "bulk", 4) == 0) ||
			    (left >= 4 && strncasecmp(v, "list", 4) == 0))
				return 1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* base - the file name without its directory */
static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* one_file - parse one message, count its flags, compare the label when asked */
static void one_file(struct folder_stats *fs, const char *path, int compare)
{
	size_t len = 0;
	char *raw = slurp(path, &len), err[256], why[512];
	struct mp_message m;
	fs->files++;
	if (raw == NULL || mimeparse_message(raw, len, NULL, &m, err, sizeof(err)) < 0) {
		fs->refused++;
		printf("# %s: not parsed: %s\n", base(path), raw ? err : "unreadable");
		free(raw);
		return;
	}
	fs->parsed++;
	struct rawheaders rh = {.raw = raw, .len = len};
	struct hdrlookup more = {rawheaders_values, &rh};
	unsigned flags = msgflags_detect(&m, NULL, &more, why, sizeof(why));
	fs->bounce += (flags & MSGFLAG_BOUNCE) != 0;
	fs->auto_reply += (flags & MSGFLAG_AUTO_REPLY) != 0;
	fs->ooo += (flags & MSGFLAG_OUT_OF_OFFICE) != 0;
	fs->list += (flags & MSGFLAG_MAILING_LIST) != 0;
	if ((flags & (MSGFLAG_BOUNCE | MSGFLAG_AUTO_REPLY)) && fs->bounce + fs->auto_reply <= SHOW_MAX)
		printf("#   %s: %s\n", base(path), why);
	if (compare) {
		int label = bulk_label(raw, len), flag = (flags & MSGFLAG_MAILING_LIST) != 0;
		fs->labelled += (unsigned)label;
		if (label == flag)
			fs->agree++;
		else
			printf("# disagree %s: label %d, flag %d (%s)\n", base(path), label, flag,
			       why[0] ? why : "no signal");
	}
	mimeparse_free(&m);
	free(raw);
}

/* folder - every regular file of dir, in name order */
static void folder(struct folder_stats *fs, const char *dir, int compare)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[4608];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			one_file(fs, path, compare);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int main(void)
{
	static const char *const folders[] = {"easy-ham-1", "hard-ham-1", "spam-1"};
	const char *top = getenv("top_srcdir");
	char root[4096];
	struct stat st;
	snprintf(root, sizeof(root), "%s/../shared/corpus/spamassassin", top ? top : ".");
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("1..0 # SKIP corpus not present\n");
		return 0;
	}
	mimeparse_init();
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		struct folder_stats fs = {0};
		char dir[4200];
		int compare = i == 0;
		snprintf(dir, sizeof(dir), "%s/%s", root, folders[i]);
		printf("# spamassassin/%s:\n", folders[i]);
		folder(&fs, dir, compare);
		ok(fs.files > 0 && fs.parsed > 0, "spamassassin/%s: %u files, %u parsed, %u refused",
		   folders[i], fs.files, fs.parsed, fs.refused);
		printf("# spamassassin/%s: %u bounces, %u auto-replies (%u out of office), %u bulk\n",
		       folders[i], fs.bounce, fs.auto_reply, fs.ooo, fs.list);
		if (compare) {
			double agreement = fs.parsed ? (double)fs.agree / fs.parsed : 0;
			printf(
			    "# spamassassin/%s: MSGFLAG_MAILING_LIST agrees with the header label on %u of %u"
			    " (%.2f%%); %u labelled bulk\n",
			    folders[i], fs.agree, fs.parsed, 100 * agreement, fs.labelled);
			ok(agreement >= AGREEMENT_MIN,
			   "mailing-list flag agrees with the label: %.2f%% (want >= %.0f%%)",
			   100 * agreement, 100 * AGREEMENT_MIN);
		}
	}
	return done_testing();
}
