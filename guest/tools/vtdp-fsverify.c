// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-fsverify - write and verify files on a mounted file system, so that a
 * disk's DMA (through whatever IOMMU the guest has) is checked end to end.
 *
 * In DIR/vtdp-fsverify/ it writes N files of pseudo-random content and of
 * mixed sizes (0 bytes to -s), fsyncs each file and the directory, then
 * verifies every byte after dropping the page cache (so buffered reads come
 * from the disk again) and with O_DIRECT reads (the disk DMAs straight into
 * the tool's buffer).  With -t it goes on in rounds until the time is up,
 * each round deleting some files and rewriting others with new content and
 * size, and verifying all of them, the untouched ones too.
 *
 * The content of a file is a function of (seed, file index, generation,
 * offset), so nothing is kept in memory to verify it; the state (each file's
 * size and generation) is written to DIR/vtdp-fsverify/MANIFEST after every
 * round, and -V verifies the files against it without writing: after a
 * reboot, or after the disk image was touched on the host.
 *
 * Output is TAP: the first round's writes and verification, one result
 * for all later rounds (whose details are comments), and the total.  A
 * wrong file is reported with the offset of its first wrong byte, what it
 * holds and what it should; the last comment gives the throughput measured
 * ("fsverify: ...").  Exit status 0 when every check passed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vtdp-tap.h"

#define SUBDIR		"vtdp-fsverify"
#define MANIFEST	"MANIFEST"
#define MANIFEST_MAGIC	"vtdp-fsverify-manifest 1"
#define CHUNK		(1u << 20)	/* I/O size; O_DIRECT-aligned */
#define DIO_ALIGN	4096u
#define MAX_FILES	4096u
#define MAX_REPORTS	8		/* mismatches described per pass */

struct vfile {
	uint64_t size;
	uint32_t gen;		/* 0: the file does not exist */
};

enum verify_mode { VM_DROP = 1, VM_DIRECT = 2, VM_BOTH = 3 };

static struct {
	const char *dir;
	unsigned int files;
	uint64_t max_size;
	uint64_t seed;
	double seconds;
	enum verify_mode mode;
	bool verify_only;
} opt = {
	.dir = "/mnt",
	.files = 16,
	.max_size = 4u << 20,
	.seed = 1,
	.mode = VM_BOTH,
};

static char base[4096];		/* DIR/vtdp-fsverify */
static struct vfile *vf;
static uint8_t *buf;		/* CHUNK bytes, DIO_ALIGN-aligned */
static uint8_t *want;		/* CHUNK bytes of expected content */
static uint64_t bytes_written, bytes_read;
static double write_secs, read_secs;
static uint64_t mismatches;	/* files found wrong, over the whole run */

/*
 * A result: a TAP line if @always or it failed, else a comment (the rounds
 * after the first are many; "rounds 2-N" sums them up in one result).
 */
static unsigned int later_failures;
static void __attribute__((format(printf, 3, 4))) report(bool always, bool ok,
							 const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (always || !ok)
		tap(ok, "%s", line);
	else
		diag("%s", line);
	if (!always && !ok)
		later_failures++;
}

/* splitmix64's output function: a good 64-bit mix of a counter. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The key of file @i's content in generation @gen. */
static uint64_t file_key(unsigned int i, uint32_t gen)
{
	return mix64(opt.seed ^ mix64(((uint64_t)gen << 32) | i));
}

/*
 * Fill @len bytes of the content at @off of the file with key @key: byte o
 * is byte (o % 8) of mix64(key + (o / 8) * golden), so any range can be
 * made without the bytes before it.
 */
static void fill(uint8_t *p, uint64_t key, uint64_t off, size_t len)
{
	const uint64_t golden = 0x9e3779b97f4a7c15ULL;

	while (len) {
		uint64_t w = mix64(key + (off / 8) * golden);
		unsigned int b = off % 8;

		for (; b < 8 && len; b++, len--, off++)
			*p++ = w >> (8 * b);
	}
}

/*
 * A size for file @i in generation @gen: every tenth of the files has one
 * of the sizes at block and page edges, the rest are spread evenly over
 * the powers of two up to the maximum (log-uniform), so that a few large
 * files carry most of the bytes and many small ones most of the metadata.
 */
static uint64_t pick_size(unsigned int i, uint32_t gen)
{
	static const uint64_t edges[] = { 0, 1, 511, 4095, 4096, 4097, 65537 };
	uint64_t r = mix64(file_key(i, gen) ^ 0x5151);
	unsigned int bits = 0;

	if (i == 0)
		return opt.max_size;
	if (r % 10 == 0)
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))] % (opt.max_size + 1);
	while ((opt.max_size >> bits) > 1)
		bits++;
	r >>= 8;
	bits = r % (bits + 1);
	r >>= 8;
	return (r % ((1ULL << bits) + 1)) % (opt.max_size + 1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void path_of(char *p, size_t len, unsigned int i)
{
	snprintf(p, len, "%s/f%04u", base, i);
}

static double mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? bytes / 1e6 / secs : 0;
}

/* Write file @i anew with its current size and generation, and fsync it. */
static int write_file(unsigned int i)
{
	uint64_t key = file_key(i, vf[i].gen), off;
	char p[4200];
	int fd;

	path_of(p, sizeof(p), i);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		diag("open %s for writing: %s", p, strerror(errno));
		return -1;
	}
	for (off = 0; off < vf[i].size;) {
		size_t n = vf[i].size - off < CHUNK ? vf[i].size - off : CHUNK;
		ssize_t w;

		fill(buf, key, off, n);
		w = write(fd, buf, n);
		if (w <= 0) {
			diag("write %s at %" PRIu64 ": %s", p, off,
			     w < 0 ? strerror(errno) : "wrote nothing");
			close(fd);
			return -1;
		}
		off += w;
	}
	bytes_written += vf[i].size;
	if (fsync(fd)) {
		diag("fsync %s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd)) {
		diag("close %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

static int fsync_path(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	int ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* The MANIFEST: what -V checks against; written, fsync'd, renamed. */
static int write_manifest(void)
{
	char p[4200], tmp[4200];
	unsigned int i;
	FILE *f;
	int bad;

	snprintf(p, sizeof(p), "%s/" MANIFEST, base);
	snprintf(tmp, sizeof(tmp), "%s/" MANIFEST ".new", base);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, MANIFEST_MAGIC "\nseed %" PRIu64 "\nfiles %u\n", opt.seed, opt.files);
	for (i = 0; i < opt.files; i++)
		fprintf(f, "f%04u %" PRIu64 " %" PRIu32 "\n", i, vf[i].size, vf[i].gen);
	bad = fflush(f) || fsync(fileno(f));
	bad |= fclose(f);
	if (bad || rename(tmp, p) || fsync_path(base))
		return -1;
	return 0;
}

static int read_manifest(void)
{
	char p[4200], line[256];
	unsigned int i, n, idx;
	uint64_t size;
	uint32_t gen;
	FILE *f;

	snprintf(p, sizeof(p), "%s/" MANIFEST, base);
	f = fopen(p, "r");
	if (!f) {
		diag("%s: %s", p, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, MANIFEST_MAGIC "\n") ||
	    fscanf(f, "seed %" SCNu64 " files %u", &opt.seed, &n) != 2 ||
	    n == 0 || n > MAX_FILES) {
		diag("%s: not a manifest of this tool", p);
		fclose(f);
		return -1;
	}
	opt.files = n;
	vf = calloc(n, sizeof(*vf));
	if (!vf) {
		fclose(f);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fscanf(f, " f%u %" SCNu64 " %" SCNu32, &idx, &size, &gen) != 3 ||
		    idx != i) {
			diag("%s: entry %u unreadable", p, i);
			fclose(f);
			return -1;
		}
		vf[i].size = size;
		vf[i].gen = gen;
	}
	fclose(f);
	return 0;
}

/* Write back everything, then drop the page cache and the dentries/inodes. */
static int drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3", 1) != 1) {
		diag("drop_caches: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Read file @i back (with O_DIRECT if @direct) and compare it with what it
 * must hold.  Returns 0 if it matches; else describes the first wrong byte
 * (if @report) and returns -1.
 */
static int verify_file(unsigned int i, bool direct, bool report)
{
	uint64_t key = file_key(i, vf[i].gen), off = 0, bad = 0, first = 0;
	uint8_t first_want = 0, first_got = 0;
	char p[4200];
	struct stat st;
	int fd;

	path_of(p, sizeof(p), i);
	if (!vf[i].gen) {
		if (access(p, F_OK) == 0 || errno != ENOENT) {
			if (report)
				diag("%s: deleted, but still there", p);
			return -1;
		}
		return 0;
	}
	fd = open(p, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		if (report)
			diag("open %s%s: %s", p, direct ? " (O_DIRECT)" : "",
			     strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		if (report)
			diag("fstat %s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size != vf[i].size) {
		if (report)
			diag("%s: size %lld, expected %" PRIu64, p,
			     (long long)st.st_size, vf[i].size);
		close(fd);
		return -1;
	}
	while (off < vf[i].size) {
		uint64_t left = vf[i].size - off;
		size_t n = left < CHUNK ? left : CHUNK;
		/* O_DIRECT reads whole blocks; the last one comes back short */
		size_t ask = direct ? (n + DIO_ALIGN - 1) & ~(size_t)(DIO_ALIGN - 1) : n;
		ssize_t r = read(fd, buf, ask);
		size_t k;

		if (r < 0 || (size_t)r < n) {
			if (report)
				diag("read %s at %" PRIu64 ": %s", p, off,
				     r < 0 ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		fill(want, key, off, n);
		if (memcmp(buf, want, n)) {
			for (k = 0; k < n; k++) {
				if (buf[k] == want[k])
					continue;
				if (!bad++) {
					first = off + k;
					first_want = want[k];
					first_got = buf[k];
				}
			}
		}
		bytes_read += n;
		off += n;
	}
	close(fd);
	if (bad) {
		if (report)
			diag("MISMATCH %s (size %" PRIu64 ", generation %" PRIu32
			     "): offset %" PRIu64 " (0x%" PRIx64 ") holds 0x%02x, expected 0x%02x; %" PRIu64
			     " byte(s) differ", p, vf[i].size, vf[i].gen, first, first,
			     first_got, first_want, bad);
		return -1;
	}
	return 0;
}

/*
 * Verify every file, with O_DIRECT reads if @direct; returns how many are
 * wrong, the read throughput in *@rate (MB/s).
 */
static unsigned int verify_all(bool direct, double *rate)
{
	unsigned int i, bad = 0;
	uint64_t before = bytes_read;
	double t0 = now(), dt;

	for (i = 0; i < opt.files; i++)
		if (verify_file(i, direct, bad < MAX_REPORTS))
			bad++;
	dt = now() - t0;
	read_secs += dt;
	mismatches += bad;
	*rate = mbps(bytes_read - before, dt);
	return bad;
}

/* Verify every file as -m says; one TAP line for all of it. */
static void verify_round(const char *round, bool always)
{
	char how[160] = "";
	unsigned int bad = 0;
	bool dropped = true;
	double rate;

	if (opt.mode & VM_DROP) {
		dropped = drop_caches() == 0;
		bad += verify_all(false, &rate);
		snprintf(how, sizeof(how), "after dropping the page cache (%.2f MB/s)%s",
			 rate, opt.mode & VM_DIRECT ? " and " : "");
	}
	if (opt.mode & VM_DIRECT) {
		bad += verify_all(true, &rate);
		snprintf(how + strlen(how), sizeof(how) - strlen(how),
			 "with O_DIRECT reads (%.2f MB/s)", rate);
	}
	report(always, bad == 0 && dropped, "%s: %u files verified %s: %u wrong%s", round,
	    opt.files, how, bad, dropped ? "" : ", page cache NOT dropped");
}

/*
 * Round @n: the first writes every file; later ones delete about a quarter
 * of the files (deleted ones come back in the next round) and rewrite
 * another quarter with new content and size.  Every change is fsync'd.
 * Returns the number of failed writes, deletes and fsyncs.
 */
static unsigned int write_round(unsigned int n, char *what, size_t len)
{
	uint64_t before = bytes_written;
	unsigned int i, created = 0, deleted = 0, errors = 0;
	double t0 = now(), dt;
	char p[4200];

	for (i = 0; i < opt.files; i++) {
		uint64_t r = mix64(file_key(i, vf[i].gen) ^ n);
		bool rewrite = n == 1 || !vf[i].gen || r % 4 == 0;

		if (n > 1 && vf[i].gen && r % 4 == 1) {
			path_of(p, sizeof(p), i);
			if (unlink(p)) {
				diag("unlink %s: %s", p, strerror(errno));
				errors++;
			}
			vf[i].gen = 0;
			deleted++;
			continue;
		}
		if (!rewrite)
			continue;
		vf[i].gen = n;
		vf[i].size = pick_size(i, n);
		if (write_file(i))
			errors++;
		created++;
	}
	if (fsync_path(base)) {
		diag("fsync %s: %s", base, strerror(errno));
		errors++;
	}
	if (write_manifest()) {
		diag("writing the manifest failed: %s", strerror(errno));
		errors++;
	}
	dt = now() - t0;
	write_secs += dt;
	snprintf(what, len, "wrote %u files (%.1f MiB, %.2f MB/s), deleted %u, %u errors",
		 created, (bytes_written - before) / 1048576.0,
		 mbps(bytes_written - before, dt), deleted, errors);
	return errors;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || end == s) {
		fprintf(stderr, "vtdp-fsverify: bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtdp-fsverify [-d DIR] [-n FILES] [-s MAXSIZE] [-S SEED] [-t SECONDS]\n"
		"                     [-m drop|direct|both] [-V]\n"
		"  -d DIR      a mounted file system (default /mnt); files go to DIR/" SUBDIR "/\n"
		"  -n FILES    number of files (default 16, at most %u)\n"
		"  -s MAXSIZE  largest file (default 4M, at most 1G; K, M, G suffixes);\n"
		"              sizes are mixed, the first file has this one\n"
		"  -S SEED     content and sizes seed (default 1)\n"
		"  -t SECONDS  go on in rounds of deletes and rewrites for SECONDS (default:\n"
		"              one round)\n"
		"  -m MODE     verify after dropping the page cache (drop), with O_DIRECT\n"
		"              reads (direct) or both (default)\n"
		"  -V          only verify the files an earlier run left in DIR, as its\n"
		"              MANIFEST says (-n, -s and -S come from there)\n",
		MAX_FILES);
}

int main(int argc, char **argv)
{
	double t0, wall;
	unsigned int n;
	char round[32];
	int c;

	while ((c = getopt(argc, argv, "d:n:s:S:t:m:Vh")) != -1) {
		switch (c) {
		case 'd': opt.dir = optarg; break;
		case 'n': opt.files = strtoul(optarg, NULL, 0); break;
		case 's': opt.max_size = parse_size(optarg); break;
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 't': opt.seconds = atof(optarg); break;
		case 'm':
			if (!strcmp(optarg, "drop"))
				opt.mode = VM_DROP;
			else if (!strcmp(optarg, "direct"))
				opt.mode = VM_DIRECT;
			else if (!strcmp(optarg, "both"))
				opt.mode = VM_BOTH;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'V': opt.verify_only = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || opt.files == 0 || opt.files > MAX_FILES ||
	    opt.max_size > (1ULL << 30) || opt.seconds < 0) {
		usage(stderr);
		return 2;
	}
	snprintf(base, sizeof(base), "%s/" SUBDIR, opt.dir);
	if (posix_memalign((void **)&buf, DIO_ALIGN, CHUNK) ||
	    posix_memalign((void **)&want, DIO_ALIGN, CHUNK)) {
		fprintf(stderr, "vtdp-fsverify: out of memory\n");
		return 1;
	}

	t0 = now();
	if (opt.verify_only) {
		bool ok = read_manifest() == 0;

		tap(ok, "the manifest of %s lists %u files", base, ok ? opt.files : 0);
		if (ok)
			verify_round("verify-only", true);
		n = 0;
	} else {
		vf = calloc(opt.files, sizeof(*vf));
		if (!vf) {
			fprintf(stderr, "vtdp-fsverify: out of memory\n");
			return 1;
		}
		if (mkdir(base, 0755) && errno != EEXIST) {
			fprintf(stderr, "vtdp-fsverify: mkdir %s: %s\n", base, strerror(errno));
			return 1;
		}
		diag("%s: %u files of up to %" PRIu64 " bytes, seed %" PRIu64 ", %s%.0f s",
		     base, opt.files, opt.max_size, opt.seed,
		     opt.seconds ? "rounds for " : "one round", opt.seconds);
		n = 0;
		do {
			char what[160];
			unsigned int errors;

			n++;
			errors = write_round(n, what, sizeof(what));
			snprintf(round, sizeof(round), "round %u", n);
			report(n == 1, errors == 0, "%s: %s", round, what);
			verify_round(round, n == 1);
		} while (now() - t0 < opt.seconds);
		if (n > 1)
			tap(later_failures == 0, "rounds 2-%u: every write, delete and verification passed",
			    n);
	}
	wall = now() - t0;
	tap(mismatches == 0 && failures == 0,
	    "%s: %u round(s) in %.1f s, %.1f MiB written, %.1f MiB verified, %" PRIu64
	    " wrong file(s)", base, n, wall, bytes_written / 1048576.0,
	    bytes_read / 1048576.0, mismatches);
	/* One line for scripts: what the disk did, measured here. */
	printf("# fsverify: rounds %u written_bytes %" PRIu64 " write_MBps %.2f"
	       " read_bytes %" PRIu64 " read_MBps %.2f mismatches %" PRIu64 "\n",
	       n, bytes_written, mbps(bytes_written, write_secs), bytes_read,
	       mbps(bytes_read, read_secs), mismatches);
	printf("1..%d\n", test_no);
	return failures ? 1 : 0;
}
