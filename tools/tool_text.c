// SPDX-License-Identifier: MIT
/*
 * tool_text.c - names and values as text that is safe to print: for a
 * terminal or a line-based reader (as ls -b does), and as JSON strings.
 */
#include <stdint.h>
#include <stdio.h>

#include "tool_i.h"

/**
 * utf8_seq() - the valid UTF-8 sequence at the start of a string
 * @s: a NUL-terminated string whose first byte is >= 0x80
 * @cp: set to the code point
 *
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. The
 * terminating NUL is never a continuation byte, so this never reads past it.
 *
 * Return: the length of the sequence (2 to 4), or 0 if it is not valid.
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;
	size_t n, i;

	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/**
 * tool_put_text() - print a name or value for a terminal or a line-based reader
 * @f: the stream
 * @s: the string
 *
 * As ls -b does: a backslash is doubled, newline and tab become \n and \t,
 * other control bytes (C0, DEL, C1) and bytes that are not valid UTF-8 become
 * a backslash and three octal digits. So one entry is always one line, and a
 * name cannot move the cursor or change the colours of the terminal.
 */
void tool_put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p) {
		if (*p == '\\') {
			fputs("\\\\", f);
			p++;
		} else if (*p >= 0x20 && *p < 0x7f) {
			putc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", f);
			p++;
		} else if (*p >= 0x80 && (n = utf8_seq(p, &cp)) && cp >= 0xa0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			/* All the bytes of a C1 character too: some terminals obey them. */
			n = *p >= 0x80 ? utf8_seq(p, &cp) : 0;
			if (!n)
				n = 1;
			while (n--)
				fprintf(f, "\\%03o", *p++);
		}
	}
}

/**
 * tool_json_str() - print a string as a JSON string
 * @f: the stream
 * @s: the string, or NULL for null
 *
 * Quote, backslash and the control characters are escaped (\b \f \n \r \t,
 * else \u00XX), as are DEL and the C1 controls. Valid UTF-8 is copied. A byte
 * that is not part of valid UTF-8 becomes \u00XX, the code point of the same
 * value (as if the byte were Latin-1): the output is always valid JSON, and
 * only such strings do not survive the round trip byte for byte.
 */
void tool_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (!s) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	while (*p) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			p++;
			continue;
		case '\\':
			fputs("\\\\", f);
			p++;
			continue;
		case '\b':
			fputs("\\b", f);
			p++;
			continue;
		case '\f':
			fputs("\\f", f);
			p++;
			continue;
		case '\n':
			fputs("\\n", f);
			p++;
			continue;
		case '\r':
			fputs("\\r", f);
			p++;
			continue;
		case '\t':
			fputs("\\t", f);
			p++;
			continue;
		}
		if (*p >= 0x20 && *p < 0x7f) {
			putc(*p++, f);
		} else if (*p < 0x80) {
			fprintf(f, "\\u%04x", *p++);
		} else if ((n = utf8_seq(p, &cp)) != 0) {
			if (cp < 0xa0)
				fprintf(f, "\\u%04x", (unsigned int)cp);
			else
				fwrite(p, 1, n, f);
			p += n;
		} else {
			fprintf(f, "\\u%04x", *p++);
		}
	}
	putc('"', f);
}
