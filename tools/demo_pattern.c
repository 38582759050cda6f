// SPDX-License-Identifier: MIT
/*
 * demo_pattern.c - umm-demo's test pattern: what the producer draws, what
 * the filter does to it, what the consumer checks it against, and which
 * frames the consumer writes as PPM files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "demo_i.h"

/*
 * Pixels are RGBA: bytes R, G, B, A in memory, whatever the CPU's byte order,
 * so that a frame means the same to every reader of the buffer.
 */
static uint32_t rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16 | (uint32_t)a << 24;
#else
	return (uint32_t)r << 24 | (uint32_t)g << 16 | (uint32_t)b << 8 | (uint32_t)a;
#endif
}

#define RGB_MASK rgba(0xff, 0xff, 0xff, 0)

/**
 * demo_pattern_init() - compute the rows every frame is drawn from.
 * @p: the pattern to fill; demo_pattern_free() releases it.
 * @width, @height: the frame size in pixels.
 *
 * Return: 0, or -ENOMEM.
 */
int demo_pattern_init(struct pattern *p, unsigned int width, unsigned int height)
{
	static const uint8_t bar_rgb[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
	};
	unsigned int x, b, g;

	p->width = width;
	p->height = height;
	p->side = (width < height ? width : height) / 5;
	if (!p->side)
		p->side = 1;
	/* 32 square cells in a row across half the width, at most a 16th of the height. */
	p->cell = width / 64 < height / 16 ? width / 64 : height / 16;
	if (!p->cell)
		p->cell = 1;
	p->bars = calloc(width, sizeof(*p->bars));
	p->ramp = calloc(width, sizeof(*p->ramp));
	if (!p->bars || !p->ramp) {
		free(p->bars);
		free(p->ramp);
		return -ENOMEM;
	}
	for (x = 0; x < width; x++) {
		b = (unsigned int)((uint64_t)x * 8 / width);
		p->bars[x] = rgba(bar_rgb[b][0], bar_rgb[b][1], bar_rgb[b][2], 255);
		g = width > 1 ? (unsigned int)((uint64_t)x * 255 / (width - 1)) : 0;
		p->ramp[x] = rgba(g, g, g, 255);
	}
	return 0;
}

/* Release what demo_pattern_init() allocated. */
void demo_pattern_free(struct pattern *p)
{
	free(p->bars);
	free(p->ramp);
}

/* A position that runs from 0 to @range and back as @t grows. */
static unsigned int bounce(uint64_t t, unsigned int range)
{
	uint64_t period = 2 * (uint64_t)range;

	if (!range)
		return 0;
	t %= period;
	return (unsigned int)(t <= range ? t : period - t);
}

/**
 * demo_pattern_row() - draw row @y of frame @k of the test pattern.
 * @p:   the pattern.
 * @row: where to draw: @p->width pixels.
 * @y:   the row.
 * @k:   the frame number.
 *
 * Colour bars scroll left by 4 pixels a frame over a grey ramp; a square
 * whose colour changes with @k bounces around; a strip of 32 cells at the top
 * left holds @k in binary (white is a one, least significant bit first). The
 * producer draws with it and the consumer checks against it, so a frame that
 * arrives late, early, torn or twice differs somewhere.
 */
void demo_pattern_row(const struct pattern *p, uint32_t *row, unsigned int y, uint32_t k)
{
	unsigned int w = p->width, shift, sx, sy, x;
	uint32_t colour, one = rgba(255, 255, 255, 255), zero = rgba(0, 0, 0, 255);

	if (y < p->height - p->height / 4) {
		shift = (unsigned int)(((uint64_t)k * 4) % w);
		memcpy(row, p->bars + shift, (size_t)(w - shift) * sizeof(*row));
		memcpy(row + (w - shift), p->bars, (size_t)shift * sizeof(*row));
	} else {
		memcpy(row, p->ramp, (size_t)w * sizeof(*row));
	}
	sx = bounce((uint64_t)k * 7, w - p->side);
	sy = bounce((uint64_t)k * 5, p->height - p->side);
	if (y >= sy && y < sy + p->side) {
		colour = rgba(255, (uint8_t)(k * 5), (uint8_t)(k * 3 + 64), 255);
		for (x = sx; x < sx + p->side; x++)
			row[x] = colour;
	}
	if (y < p->cell)
		for (x = 0; x < w && x < 32 * p->cell; x++)
			row[x] = (k >> (x / p->cell)) & 1 ? one : zero;
}

/* The filter's transform: invert red, green and blue, keep alpha. */
void demo_invert_pixels(uint32_t *px, size_t n)
{
	uint64_t mask = (uint64_t)RGB_MASK << 32 | RGB_MASK;
	uint64_t *q = (uint64_t *)px;
	size_t i;

	/* Two pixels at a time: the mapping is page-aligned. */
	for (i = 0; i < n / 2; i++)
		q[i] ^= mask;
	if (n & 1)
		px[n - 1] ^= RGB_MASK;
}

/* The filter's transform of a camera's frame: every bit of @n bytes inverted. */
void demo_invert_bytes(void *p, size_t n)
{
	uint64_t *q = p;
	uint8_t *b = p;
	size_t i;

	/* Eight bytes at a time: the mapping is page-aligned. */
	for (i = 0; i < n / 8; i++)
		q[i] = ~q[i];
	for (i = n / 8 * 8; i < n; i++)
		b[i] = (uint8_t)~b[i];
}

/* Does the consumer write frame @k of @n as a PPM file? The first, middle, last. */
bool demo_ppm_wanted(uint32_t k, uint32_t n)
{
	return k == 0 || k == n / 2 || k == n - 1;
}
