/* llmproto.h - what mailroom says to an OpenAI-compatible chat/completions
 * endpoint and how strictly it reads the answer.
 *
 * Pure functions, no network: the worker's transport (worker/llm.c) calls
 * them. Only the subject and the first characters of the new text (without
 * quoted history) are sent, with mail addresses, phone numbers and IBANs
 * masked, wrapped between a fresh random marker that the mail text does not
 * contain; the system prompt declares everything between the markers data.
 * An answer is accepted only when it is exactly the JSON object the prompt
 * asked for; anything else is a failure with a reason.
 */
#ifndef MAILROOM_LLMPROTO_H
#define MAILROOM_LLMPROTO_H

#include <stddef.h>

/* Largest response body read from the endpoint. */
#define LLMPROTO_MAX_RESPONSE (64 * 1024)
/* Longest reason accepted in an answer, in characters. */
#define LLMPROTO_MAX_REASON 200
/* Hex characters of a marker (128 random bits). */
#define LLMPROTO_MARKER_HEX 32

/* The mail as it may leave: masked subject and masked, shortened text. Owned
 * by the caller; llmproto_mail_free() releases it. */
struct llmproto_mail {
	char *subject;
	char *text;
};

/* A validated answer. class and level point into static tables. */
struct llmproto_answer {
	const char *class;
	const char *level;
	double confidence;
	char reason[LLMPROTO_MAX_REASON * 4 + 1];
};

/* What a finished request means for the queue. */
enum llmproto_outcome {
	LLMPROTO_OK,    /* a valid answer */
	LLMPROTO_RETRY, /* 429, 5xx: try again later */
	LLMPROTO_FAIL,  /* a bad answer or a refused request: do not repeat */
};

/* llmproto_mask - a malloc'd copy of text with mail addresses, phone numbers
 * and IBANs replaced by [email], [phone], [iban]; NULL with err filled. */
char *llmproto_mask(const char *text, char *err, size_t errlen);

/* llmproto_prepare - mask subject and text and keep max_chars characters of
 * the text; 0, or -1 with err filled. NULL inputs count as empty. */
int llmproto_prepare(const char *subject, const char *text, size_t max_chars, struct llmproto_mail *out,
                     char *err, size_t errlen);

/* llmproto_mail_free - release what llmproto_prepare made */
void llmproto_mail_free(struct llmproto_mail *m);

/* llmproto_content_hash - SHA-256 (hex, 64 chars + NUL) of the model and the
 * prepared mail: the cache key, independent of the random marker. */
void llmproto_content_hash(const char *model, const struct llmproto_mail *m, char out[65]);

/* llmproto_new_marker - 128 random bits as 32 hex characters + NUL */
void llmproto_new_marker(char out[LLMPROTO_MARKER_HEX + 1]);

/* llmproto_build - the JSON request body (malloc'd) for model; json_mode asks
 * for response_format json_object. NULL with err filled, also when the mail
 * contains marker. */
char *llmproto_build(const char *model, int json_mode, long max_tokens, const struct llmproto_mail *m,
                     const char *marker, char *err, size_t errlen);

/* llmproto_parse - judge a response: HTTP status and body (len bytes). OK
 * fills a; RETRY and FAIL write why into why. */
enum llmproto_outcome llmproto_parse(long http_status, const char *body, size_t len,
                                     struct llmproto_answer *a, char *why, size_t whylen);

/* llmproto_level_rank - 0 low .. 3 urgent, -1 for anything else */
int llmproto_level_rank(const char *level);

/* llmproto_cap_level - the level to apply when the LLM suggests suggested and
 * the message has current: at most one step away from current. NULL when
 * either is not a level. */
const char *llmproto_cap_level(const char *current, const char *suggested);

#endif
