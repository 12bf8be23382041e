/* qrsvg.c - QR code modules (libqrencode) to SVG: each horizontal run of
 * dark modules becomes one rectangle of the path, which keeps a version 7
 * code near 10 KiB of markup. */
#include "qrsvg.h"

#include <qrencode.h>
#include <string.h>

void qrsvg_modules(FILE *out, const unsigned char *modules, int width)
{
	int size = width + 2 * QRSVG_QUIET;
	fprintf(out,
	        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	        "height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">\n"
	        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
	        size, size, size * QRSVG_SCALE, size * QRSVG_SCALE, size, size);
	for (int y = 0; y < width; y++) {
		const unsigned char *row = modules + (size_t)y * (size_t)width;
		for (int x = 0; x < width;) {
			if (!(row[x] & 1)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < width && (row[x + run] & 1))
				run++;
			fprintf(out, "M%d %dh%dv1h-%dz", x + QRSVG_QUIET, y + QRSVG_QUIET, run, run);
			x += run;
		}
	}
	fputs("\"/>\n</svg>\n", out);
}

int qrsvg_text(FILE *out, const char *text)
{
	if (strlen(text) > QRSVG_TEXT_MAX)
		return -1;
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return -1;
	qrsvg_modules(out, qr->data, qr->width);
	QRcode_free(qr);
	return 0;
}
