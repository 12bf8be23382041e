/* fuzz-record.c - libFuzzer target: record_read() on arbitrary spool files.
 *
 * A spool file may be damaged by a crash or a full disk; ingest must refuse
 * it (to bad/) without reading out of bounds or leaking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("record", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		struct record r;
		char err[256];
		if (record_read(fd, &r, err, sizeof(err)) == 0) {
			/* A record that parses must be re-encodable. */
			char *out;
			size_t len;
			if (record_encode_trailer(&r, &out, &len) == 0)
				free(out);
			record_clear(&r);
		}
	}
	close(fd);
	return 0;
}
