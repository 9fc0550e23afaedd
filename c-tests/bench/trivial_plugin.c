/*
 * trivial_plugin — the cheapest CNI plugin that still does a plugin's I/O: it reads its whole
 * stdin, and for ADD prints a small result in the request's cniVersion (one interface, one
 * address); VERSION prints the versions it supports; every other command prints nothing.
 * Exit status 0 always.
 *
 * Built `-static -O2` so that the benchmark measures process creation and the library, not the
 * dynamic loader. It does no networking: netns and ifname are only echoed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Requests are a few hundred bytes; anything longer is read and ignored past this. */
#define STDIN_KEEP 65536

/* The value of the first `"cniVersion":"…"` in the request (compact JSON), or "1.0.0". */
static void request_version(const char *req, char *out, size_t out_len)
{
    static const char key[] = "\"cniVersion\":\"";
    const char *at = strstr(req, key);
    const char *value = at == NULL ? "1.0.0\"" : at + sizeof(key) - 1;
    size_t n = strcspn(value, "\"");
    if (n == 0 || n >= out_len) {
        value = "1.0.0";
        n = 5;
    }
    memcpy(out, value, n);
    out[n] = '\0';
}

static void write_all(const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, text, len);
        if (n <= 0) {
            return;
        }
        text += n;
        len -= (size_t)n;
    }
}

int main(void)
{
    static char req[STDIN_KEEP + 1];
    size_t used = 0;
    for (;;) {
        char sink[4096];
        char *dst = used < STDIN_KEEP ? req + used : sink;
        size_t room = used < STDIN_KEEP ? STDIN_KEEP - used : sizeof(sink);
        ssize_t n = read(STDIN_FILENO, dst, room);
        if (n <= 0) {
            break;
        }
        if (dst == req + used) {
            used += (size_t)n;
        }
    }
    req[used] = '\0';

    const char *command = getenv("CNI_COMMAND");
    const char *ifname = getenv("CNI_IFNAME");
    const char *netns = getenv("CNI_NETNS");
    char out[1024];
    int len = 0;
    if (command != NULL && strcmp(command, "ADD") == 0) {
        char version[32];
        request_version(req, version, sizeof(version));
        len = snprintf(out, sizeof(out),
                       "{\"cniVersion\":\"%s\",\"interfaces\":[{\"name\":\"%s\",\"mac\":\"0a:58:0a:58:00:02\","
                       "\"sandbox\":\"%s\"}],\"ips\":[{\"version\":\"4\",\"address\":\"10.88.0.2/16\","
                       "\"gateway\":\"10.88.0.1\",\"interface\":0}]}\n",
                       version, ifname == NULL ? "eth0" : ifname, netns == NULL ? "" : netns);
    } else if (command != NULL && strcmp(command, "VERSION") == 0) {
        len = snprintf(out, sizeof(out), "%s",
                       "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\","
                       "\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
    }
    if (len > 0 && (size_t)len < sizeof(out)) {
        write_all(out, (size_t)len);
    }
    return 0;
}
