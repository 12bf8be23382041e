/* fuzz-conf.c - libFuzzer target: conf_load() on arbitrary configuration files. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("conf", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64], err[512];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct mailroom_conf *c = conf_load(path, err, sizeof(err));
		if (c != NULL) {
			FILE *null = fopen("/dev/null", "w");
			if (null != NULL) {
				conf_print(c, null);
				fclose(null);
			}
			conf_free(&c);
		}
	}
	close(fd);
	return 0;
}
