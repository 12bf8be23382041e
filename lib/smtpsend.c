/* smtpsend.c - one message to an SMTP server through libcurl's easy
 * interface; every recipient must be accepted or nothing is sent. */
#include "smtpsend.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* The message being uploaded to curl. */
struct upload {
	const char *data;
	size_t len, off;
};

/* upload_read - curl's read callback over the message in memory */
static size_t upload_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct upload *u = userdata;
	size_t n = size * nitems;
	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

int smtpsend_message(const struct smtpsend *s, const char *msg, size_t len, char *err, size_t errlen)
{
	struct curl_slist *rcpt = NULL;
	char from[400], addr[400], cerr[CURL_ERROR_SIZE] = "";
	struct upload u = {msg, len, 0};
	CURLcode rc;

	if (s->n_rcpt == 0 || s->n_rcpt > SMTPSEND_RCPT_MAX) {
		snprintf(err, errlen, "%zu recipients (1 to %d)", s->n_rcpt, SMTPSEND_RCPT_MAX);
		return -1;
	}
	if (s->url == NULL || s->url[0] == '\0') {
		snprintf(err, errlen, "no SMTP server configured");
		return -1;
	}
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	snprintf(from, sizeof(from), "<%s>", s->from);
	for (size_t i = 0; i < s->n_rcpt; i++) {
		snprintf(addr, sizeof(addr), "<%s>", s->rcpt[i]);
		struct curl_slist *n = curl_slist_append(rcpt, addr);
		if (n == NULL) {
			curl_slist_free_all(rcpt);
			curl_easy_cleanup(curl);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rcpt = n;
	}
	curl_easy_setopt(curl, CURLOPT_URL, s->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}
