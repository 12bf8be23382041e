/* qrsvg.h - a QR code as inline SVG for the web pages.
 *
 * libqrencode computes the modules; this writes them as one <svg
 * class="qr"> with a white background and one black <path>, colours given
 * as SVG attributes (fill) because the pages' Content-Security-Policy
 * allows no inline style. The SVG has a quiet zone of QRSVG_QUIET modules.
 */
#ifndef MAILROOM_WEB_QRSVG_H
#define MAILROOM_WEB_QRSVG_H

#include <stdio.h>

#define QRSVG_QUIET    4 /* modules of white border, as ISO/IEC 18004 asks */
#define QRSVG_SCALE    4 /* CSS pixels per module of the default size */
#define QRSVG_TEXT_MAX 1024

/* qrsvg_modules - write the width x width matrix modules (row by row; a
 * module is dark when its bit 0 is set, as libqrencode gives it) as SVG */
void qrsvg_modules(FILE *out, const unsigned char *modules, int width);
/* qrsvg_text - encode text (at most QRSVG_TEXT_MAX bytes) with error
 * correction level M and write it as SVG; 0, or -1 with nothing written */
int qrsvg_text(FILE *out, const char *text);

#endif
