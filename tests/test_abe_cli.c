/*
 * test_abe_cli.c: `secneuron setup`, `keygen` and `abe` from the shell.
 *
 * The documented flow (setup, keygen, encrypt, decrypt) in binary and
 * armoured form; the error messages a person sees for the wrong key, a
 * tampered file, a key from another setup, bad policies and attribute
 * lists; --json output parsed by cJSON; --help everywhere; modes 0600.
 */
#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "test.h"

static int mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) ? -1 : (int)(st.st_mode & 0777);
}

static char *read_text(const char *path) {
    size_t n;
    return (char *)sn_test_read(path, &n);
}

/* Run and expect an exit code; returns the output (free it). */
static char *run(int want, const char *args) {
    char *out = NULL;
    int rc = sn_test_cli(&out, "%s", args);
    CHECK_MSG(rc == want, "`secneuron %s` exited %d, expected %d:\n%s", args, rc, want, out ? out : "");
    return out;
}

int main(void) {
    char cmd[8192], dir[4096], *o;
    snprintf(dir, sizeof dir, "%s", sn_test_tmpdir());
#define R(want, ...) (snprintf(cmd, sizeof cmd, __VA_ARGS__), o = run(want, cmd))

    /* help */
    const char *helps[] = {"setup --help", "keygen --help", "abe --help", "abe encrypt --help", "abe decrypt -h",
                           "abe inspect --help", "abe policy --help"};
    for (int i = 0; i < 7; i++) {
        R(0, "%s", helps[i]);
        CHECK_STR_CONTAINS(o, "usage: secneuron");
        free(o);
    }
    R(0, "--help");
    CHECK_STR_CONTAINS(o, "setup");
    CHECK_STR_CONTAINS(o, "keygen");
    CHECK_STR_CONTAINS(o, "abe");
    free(o);

    /* setup */
    R(0, "setup -o '%s/auth'", dir);
    CHECK_STR_CONTAINS(o, "setup id");
    free(o);
    char mpk[4200], msk[4200];
    snprintf(mpk, sizeof mpk, "%s/auth/mpk", dir);
    snprintf(msk, sizeof msk, "%s/auth/msk", dir);
    CHECK_EQ_INT(mode_of(msk), 0600);
    CHECK_EQ_INT(mode_of(mpk), 0644);
    R(1, "setup -o '%s/auth'", dir);
    CHECK_STR_CONTAINS(o, "--force");
    free(o);
    R(0, "setup -o '%s/auth2' --armor --json", dir);
    cJSON *j = cJSON_Parse(o);
    CHECK(j && cJSON_IsString(cJSON_GetObjectItem(j, "setup_id")) &&
          strlen(cJSON_GetStringValue(cJSON_GetObjectItem(j, "setup_id"))) == 64);
    cJSON_Delete(j);
    free(o);
    R(2, "setup");
    free(o);

    /* keygen */
    R(0, "keygen --msk '%s' --mpk '%s' --attrs 'task:math,task:chat,tier:pro' -o '%s/alice.key'", msk, mpk, dir);
    CHECK_STR_CONTAINS(o, "{task:chat, task:math, tier:pro}");
    free(o);
    R(0, "keygen --msk '%s' --attrs task:code -o '%s/bob.key' --armor --json", msk, dir);
    j = cJSON_Parse(o);
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "attributes")) == 1);
    cJSON_Delete(j);
    free(o);
    snprintf(cmd, sizeof cmd, "%s/alice.key", dir);
    CHECK_EQ_INT(mode_of(cmd), 0600);
    snprintf(cmd, sizeof cmd, "%s/bob.key", dir);
    CHECK_EQ_INT(mode_of(cmd), 0600);
    char *bob = read_text(cmd);
    CHECK(bob && !strncmp(bob, "-----BEGIN SECNEURON ABE USER KEY-----", 38));
    free(bob);
    R(0, "keygen --msk '%s/auth2/msk' --attrs task:math -o '%s/eve.key'", dir, dir);
    free(o);
    /* keygen errors */
    R(1, "keygen --msk '%s' --attrs '' -o '%s/x.key'", msk, dir);
    CHECK_STR_CONTAINS(o, "empty");
    free(o);
    R(1, "keygen --msk '%s' --attrs 'a,,b' -o '%s/x.key'", msk, dir);
    CHECK_STR_CONTAINS(o, "item 2 of the list is empty");
    free(o);
    R(1, "keygen --msk '%s' --attrs 'task code' -o '%s/x.key'", msk, dir);
    CHECK_STR_CONTAINS(o, "not allowed");
    free(o);
    R(1, "keygen --msk '%s' --mpk '%s/auth2/mpk' --attrs a -o '%s/x.key'", msk, dir, dir);
    CHECK_STR_CONTAINS(o, "another setup");
    free(o);
    R(1, "keygen --msk '%s' --attrs a -o '%s/x.key'", mpk, dir);
    CHECK_STR_CONTAINS(o, "not a master secret key");
    free(o);
    CHECK(!sn_test_file_exists(sn_test_tmp("x.key")));
    R(2, "keygen --msk '%s' -o '%s/x.key'", msk, dir);
    free(o);

    /* encrypt / decrypt */
    const char *pt = sn_test_tmp("plain.txt");
    const char secret[] = "a 32-byte group key, or a file.\n";
    sn_test_write(pt, secret, sizeof secret - 1);
    R(0, "abe encrypt --mpk '%s' --policy 'task:math or (task:code and tier:pro)' '%s' '%s/ct'", mpk, pt, dir);
    CHECK_STR_CONTAINS(o, "task:math or (task:code and tier:pro)");
    free(o);
    R(0, "abe decrypt --key '%s/alice.key' '%s/ct' '%s/out'", dir, dir, dir);
    free(o);
    snprintf(cmd, sizeof cmd, "%s/out", dir);
    char *got = read_text(cmd);
    CHECK(got && !strcmp(got, secret));
    free(got);
    CHECK_EQ_INT(mode_of(cmd), 0600);
    /* armoured ciphertext, json */
    R(0, "abe encrypt --json --armor --mpk '%s/auth2/mpk' --policy '2 of (task:math, task:code, x)' '%s' '%s/ct2'", dir,
      pt, dir);
    j = cJSON_Parse(o);
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "policy")), "2 of (task:math, task:code, x)"));
    cJSON_Delete(j);
    free(o);
    /* the wrong key */
    R(1, "abe decrypt --key '%s/bob.key' '%s/ct' '%s/out2'", dir, dir, dir);
    CHECK_STR_CONTAINS(o, "key attributes {task:code} do not satisfy policy task:math or (task:code and tier:pro)");
    free(o);
    CHECK(!sn_test_file_exists(sn_test_tmp("out2")));
    /* a key from another setup */
    R(1, "abe decrypt --key '%s/eve.key' '%s/ct' '%s/out2'", dir, dir, dir);
    CHECK_STR_CONTAINS(o, "another setup");
    free(o);
    R(1, "abe decrypt --json --key '%s/alice.key' '%s/ct2' '%s/out2'", dir, dir, dir);
    j = cJSON_Parse(strchr(o, '{')); /* stderr has the message too */
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "code")), "key"));
    cJSON_Delete(j);
    free(o);
    /* tampering: a byte of the sealed payload, then of the policy */
    snprintf(cmd, sizeof cmd, "%s/ct", dir);
    size_t n;
    uint8_t *ct = sn_test_read(cmd, &n);
    if (ct) {
        ct[n - 20] ^= 1;
        sn_test_write(sn_test_tmp("ct.bad"), ct, n);
        R(1, "abe decrypt --key '%s/alice.key' '%s/ct.bad' '%s/out3'", dir, dir, dir);
        CHECK_STR_CONTAINS(o, "authentication failed");
        free(o);
        ct[n - 20] ^= 1;
        ct[42] = 'T'; /* task:math -> Task:math: a valid policy alice does not satisfy */
        sn_test_write(sn_test_tmp("ct.bad"), ct, n);
        R(1, "abe decrypt --key '%s/alice.key' '%s/ct.bad' '%s/out3'", dir, dir, dir);
        CHECK_STR_CONTAINS(o, "do not satisfy");
        free(o);
        sn_test_write(sn_test_tmp("ct.bad"), ct, 100);
        R(1, "abe decrypt --key '%s/alice.key' '%s/ct.bad' '%s/out3'", dir, dir, dir);
        CHECK_STR_CONTAINS(o, "truncated");
        free(o);
        free(ct);
    }
    /* policies */
    R(1, "abe encrypt --mpk '%s' --policy 'task:math and (tier:pro' '%s' '%s/ct3'", mpk, pt, dir);
    CHECK_STR_CONTAINS(o, "column 24");
    free(o);
    R(1, "abe encrypt --mpk '%s' --policy '1000000 of (a, b)' '%s' '%s/ct3'", mpk, pt, dir);
    CHECK_STR_CONTAINS(o, "threshold 1000000 of 2 items");
    free(o);
    R(2, "abe encrypt --mpk '%s' '%s' '%s/ct3'", mpk, pt, dir);
    free(o);
    R(0, "abe policy --json 'A && (b || c) OR 2 of (x, y, z)'");
    j = cJSON_Parse(o);
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "policy")), "(A and (b or c)) or 2 of (x, y, z)"));
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "attributes")) == 6);
    cJSON_Delete(j);
    free(o);
    R(1, "abe policy 'a and'");
    CHECK_STR_CONTAINS(o, "column 6");
    free(o);
    /* inspect */
    R(0, "abe inspect '%s/ct'", dir);
    CHECK_STR_CONTAINS(o, "ciphertext");
    CHECK_STR_CONTAINS(o, "policy: task:math or (task:code and tier:pro)");
    free(o);
    R(0, "abe inspect --json '%s/bob.key'", dir);
    j = cJSON_Parse(o);
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "key") &&
          cJSON_IsTrue(cJSON_GetObjectItem(j, "armor")));
    cJSON_Delete(j);
    free(o);
    R(0, "abe inspect '%s'", msk);
    CHECK_STR_CONTAINS(o, "master secret key");
    free(o);
    R(1, "abe inspect '%s'", pt);
    CHECK_STR_CONTAINS(o, "not a secneuron ABE file");
    free(o);
    R(2, "abe frobnicate");
    free(o);
    return sn_test_finish("abe_cli");
}
