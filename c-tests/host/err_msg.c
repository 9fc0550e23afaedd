/*
 * iSulad's daemon error channel (src/daemon/common/err_msg.c) for the test host: one malloc'd
 * message per thread, which callers read after a failure on the same thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isulad_host.h"

__thread char *g_isulad_errmsg = NULL;

/* Formats into buf (BUFSIZ bytes, iSulad's limit); false when it fails or does not fit. */
static bool format_message(char *buf, const char *format, va_list args)
{
    int n = vsnprintf(buf, BUFSIZ, format, args);

    return n >= 0 && n < BUFSIZ;
}

void isulad_clear_error_message(void)
{
    free(g_isulad_errmsg);
    g_isulad_errmsg = NULL;
}

void isulad_set_error_message(const char *format, ...)
{
    char buf[BUFSIZ];
    va_list args;
    bool ok = false;

    /* The old message is dropped even when the new one is then discarded (too long). */
    isulad_clear_error_message();
    va_start(args, format);
    ok = format_message(buf, format, args);
    va_end(args);
    if (ok) {
        g_isulad_errmsg = strdup(buf);
    }
}

void isulad_append_error_message(const char *format, ...)
{
    char buf[BUFSIZ];
    va_list args;
    bool ok = false;
    size_t new_len = 0;
    size_t old_len = 0;
    char *joined = NULL;

    va_start(args, format);
    ok = format_message(buf, format, args);
    va_end(args);
    if (!ok) {
        return;
    }
    /* Despite the name, the new text goes before the current message (new + old). */
    new_len = strlen(buf);
    old_len = g_isulad_errmsg != NULL ? strlen(g_isulad_errmsg) : 0;
    joined = malloc(new_len + old_len + 1);
    if (joined == NULL) {
        return;
    }
    memcpy(joined, buf, new_len);
    if (old_len > 0) {
        memcpy(joined + new_len, g_isulad_errmsg, old_len);
    }
    joined[new_len + old_len] = '\0';
    free(g_isulad_errmsg);
    g_isulad_errmsg = joined;
}
