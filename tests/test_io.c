/*
 * test_io.c: outputs appear only when complete, with the requested mode;
 * mapped inputs read what was written; errors name the path.
 */
#include <sys/stat.h>
#include <dirent.h>

#include "secneuron/io.h"
#include "test.h"

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

int main(void) {
    sn_err err = {0};
    const char *dir = sn_test_tmpdir();
    const char *path = sn_test_tmp("out.bin");

    /* An aborted output leaves nothing behind, not even the temporary. */
    sn_out *o;
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_OK(sn_out_write(o, "hello", 5, &err), &err);
    CHECK(!sn_test_file_exists(path));
    CHECK_EQ_INT(count_entries(dir), 1); /* the hidden temporary */
    sn_out_abort(o);
    CHECK(!sn_test_file_exists(path));
    CHECK_EQ_INT(count_entries(dir), 0);

    /* A committed output has exactly the bytes, across the 1 MiB buffer. */
    size_t big = (3u << 20) + 12345;
    uint8_t *buf = malloc(big);
    uint64_t s = 1;
    for (size_t i = 0; i < big; i++) buf[i] = (uint8_t)sn_test_rand(&s);
    CHECK_OK(sn_out_open(&o, path, 0600, &err), &err);
    CHECK_OK(sn_out_write(o, buf, 100, &err), &err);
    CHECK_OK(sn_out_zeros(o, 7, &err), &err);
    CHECK_OK(sn_out_write(o, buf + 100, big - 100, &err), &err);
    CHECK_EQ_INT(sn_out_tell(o), big + 7);
    CHECK_OK(sn_out_commit(o, &err), &err);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(st.st_size, big + 7);

    sn_file f;
    CHECK_OK(sn_file_map(&f, path, &err), &err);
    CHECK_EQ_INT(f.size, big + 7);
    CHECK(memcmp(f.data, buf, 100) == 0);
    CHECK(f.data[100] == 0 && f.data[106] == 0);
    CHECK(memcmp(f.data + 107, buf + 100, big - 100) == 0);
    sn_file_unmap(&f);
    CHECK_EQ_INT(count_entries(dir), 1);

    /* Replacing keeps the old file until commit. */
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_OK(sn_out_write(o, "x", 1, &err), &err);
    CHECK(stat(path, &st) == 0 && st.st_size == (off_t)(big + 7));
    CHECK_OK(sn_out_commit(o, &err), &err);
    CHECK(stat(path, &st) == 0 && st.st_size == 1);

    /* Errors name the path. */
    CHECK_FAILS(sn_file_map(&f, "/nonexistent/x.gguf", &err), &err, SN_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/x.gguf");
    CHECK_FAILS(sn_out_open(&o, "/nonexistent/dir/x.gguf", 0644, &err), &err, SN_EIO);
    CHECK_FAILS(sn_file_map(&f, dir, &err), &err, SN_EIO); /* a directory */

    /* Secret wiping and constant-time compare. */
    uint8_t key[32];
    memset(key, 0xAB, sizeof key);
    sn_memzero(key, sizeof key);
    for (int i = 0; i < 32; i++) CHECK(key[i] == 0);
    CHECK(sn_memcmp_ct("abc", "abc", 3) == 0);
    CHECK(sn_memcmp_ct("abc", "abd", 3) != 0);

    free(buf);
    return sn_test_finish("test_io");
}
