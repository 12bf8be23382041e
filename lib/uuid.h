/* uuid.h - record ids: UUIDv7 (RFC 9562), time-ordered and random. */
#ifndef MAILROOM_UUID_H
#define MAILROOM_UUID_H

#include <stdint.h>

#define UUID_TEXT_LEN 36

/* uuid_v7 - a new id for now, as 36 characters plus NUL in out */
void uuid_v7(char out[UUID_TEXT_LEN + 1]);
/* uuid_v7_at - the same for a given Unix time in milliseconds (tests) */
void uuid_v7_at(uint64_t unix_ms, char out[UUID_TEXT_LEN + 1]);
/* uuid_parse - 36-character text to 16 bytes; 0 or -1 */
int uuid_parse(const char *text, uint8_t bytes[16]);

#endif
