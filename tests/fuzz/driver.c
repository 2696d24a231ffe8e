/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stand-alone driver for the fuzz harnesses, so they run in `make test`
 * without libFuzzer: every file of the corpus directory given as argv[1] is
 * fed to LLVMFuzzerTestOneInput, then a fixed number of deterministic
 * mutations of each (bit flips, byte changes, truncations, duplicated runs,
 * length-field bumps). Under ASan/UBSan any memory error aborts the test.
 * With clang -fsanitize=fuzzer the harness files are used without this
 * driver (see tests/fuzz/README.md).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUTATIONS 3000
#define FUZZ_MAX_INPUT (256 * 1024)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void
run_copy(const uint8_t *p, size_t n)
{
	/* an exact-size heap copy, so ASan sees any read past the end */
	uint8_t *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	if (n)
		memcpy(c, p, n);
	LLVMFuzzerTestOneInput(c, n);
	free(c);
}

static void
mutate(const uint8_t *seed, size_t n)
{
	uint8_t *m = malloc(n * 2 + 16);

	if (m == NULL)
		abort();
	for (int i = 0; i < MUTATIONS; i++) {
		size_t len = n, pos;

		memcpy(m, seed, n);
		for (int k = 1 + (int)(next() % 4); k > 0 && len; k--) {
			pos = next() % len;
			switch (next() % 6) {
			case 0:
				m[pos] ^= (uint8_t)(1u << (next() % 8));
				break;
			case 1:
				m[pos] = (uint8_t)next();
				break;
			case 2:
				len = pos;	/* truncate */
				break;
			case 3:
				m[pos] = (uint8_t)(m[pos] + 1);	/* lengths */
				break;
			case 4:
				m[pos] = (next() & 1) ? 0xff : 0x80;
				break;
			case 5: {	/* duplicate a run */
				size_t run = next() % 16;

				if (pos + run <= len && len + run <= n * 2 + 16) {
					memmove(m + pos + run, m + pos,
					    len - pos);
					len += run;
				}
				break;
			}
			}
		}
		run_copy(m, len);
	}
	free(m);
}

int
main(int argc, char **argv)
{
	DIR *dir;
	struct dirent *de;
	int files = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	dir = opendir(argv[1]);
	if (dir == NULL) {
		perror(argv[1]);
		return 2;
	}
	run_copy((const uint8_t *)"", 0);
	while ((de = readdir(dir)) != NULL) {
		char path[4096];
		uint8_t *buf;
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		buf = malloc(FUZZ_MAX_INPUT);
		if (buf == NULL)
			abort();
		n = fread(buf, 1, FUZZ_MAX_INPUT, f);
		fclose(f);
		run_copy(buf, n);
		for (size_t t = 0; t < n; t++)	/* every truncation */
			run_copy(buf, t);
		mutate(buf, n);
		free(buf);
		files++;
	}
	closedir(dir);
	printf("fuzz: %d corpus files, %d mutations each: no crash\n", files,
	    MUTATIONS);
	return files > 0 ? 0 : 1;
}
