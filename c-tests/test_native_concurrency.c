/*
 * Native network management from many daemon threads at once: 4 threads create and remove
 * their own networks, 2 threads list/inspect/exist all the while, and 2 threads create the same
 * name with overlapping subnets at the same moment (exactly one wins). No file in the conf dir
 * may ever be seen half-written.
 */
// ctest: RUN_SERIAL
#define _GNU_SOURCE

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures/native-helpers.h"

#define CREATORS 4
#define READERS 2
#define RACERS 2
#define ROUNDS 10
#define RACE_NET "race"

static struct tl_env g_env;
static atomic_int g_creators_running = CREATORS;
static pthread_barrier_t g_race_start;

/* A whole conflist as iSulad writes it: "{" ... "}\n". */
static bool complete_json(const char *text)
{
    size_t len = text != NULL ? strlen(text) : 0;
    return len >= 3 && text[0] == '{' && text[len - 2] == '}' && text[len - 1] == '\n';
}

static void *creator(void *arg)
{
    int i = (int)(long)arg;
    char *subnet = tl_asprintf("10.250.%d.0/24", 100 + i);
    for (int round = 0; round < ROUNDS; round++) {
        char *name = tl_asprintf("conc%d-%d", i, round);
        if (nt_create_ok(name, subnet, __LINE__)) {
            char *json = NULL;
            char *needle = tl_asprintf("\"subnet\": \"%s\"", subnet);
            CHECKF(network_module_conf_inspect(NT_NATIVE, name, &json) == 0, "inspect %s", name);
            CHECKF(complete_json(json) && strstr(json, needle) != NULL, "inspect %s: %s", name, json ? json : "NULL");
            CHECK_EQ_INT(network_module_exist(NT_NATIVE, name), 1);
            nt_rm_ok(name, __LINE__);
            CHECK_EQ_INT(network_module_exist(NT_NATIVE, name), 0);
            free(needle);
            free(json);
        }
        free(name);
    }
    free(subnet);
    atomic_fetch_sub(&g_creators_running, 1);
    tl_clear_errmsg(); /* the thread's message would leak with the thread */
    return NULL;
}

/* One listed network: inspect and exist agree with it or say it has just gone; its file, if
 * still there, is complete. */
static void look_at(const char *name)
{
    char *json = NULL;
    tl_clear_errmsg();
    int rc = network_module_conf_inspect(NT_NATIVE, name, &json);
    if (rc == 0) {
        CHECKF(complete_json(json), "inspect %s gave a partial text", name);
    } else {
        char *gone = tl_asprintf("No such network %s", name);
        CHECKF(rc == -1 && tl_errmsg() != NULL && strcmp(tl_errmsg(), gone) == 0, "inspect %s: rc %d: %s", name, rc,
               tl_errmsg_text());
        free(gone);
    }
    free(json);
    int exists = network_module_exist(NT_NATIVE, name);
    CHECKF(exists == 0 || exists == 1, "exist %s: %d", name, exists);
    char *path = nt_conflist_path(g_env.conf, name);
    char *text = tl_read_file(path);
    CHECKF(text == NULL || complete_json(text), "%s is torn: %s", path, text);
    free(text);
    free(path);
}

static void *reader(void *arg)
{
    (void)arg;
    long passes = 0;
    do {
        network_network_info **items = NULL;
        size_t len = 0;
        tl_clear_errmsg();
        int rc = network_module_conf_list(NT_NATIVE, NULL, &items, &len);
        CHECKF(rc == 0, "list: rc %d: %s", rc, tl_errmsg_text());
        for (size_t i = 0; i < len; i++) {
            bool whole = items[i] != NULL && items[i]->name != NULL && items[i]->plugins_len == 3;
            if (CHECKF(whole, "list item %zu is incomplete", i)) {
                CHECK_EQ_STR(items[i]->version, "1.0.0");
                look_at(items[i]->name);
            }
        }
        nt_free_list(items, len);
        int race = network_module_exist(NT_NATIVE, RACE_NET);
        CHECKF(race == 0 || race == 1, "exist race: %d", race);
        passes++;
    } while (atomic_load(&g_creators_running) > 0);
    CHECK(passes > 0);
    tl_clear_errmsg();
    return NULL;
}

struct racer {
    const char *subnet;
    int rc;
    uint32_t cc;
    char *message;
};

static void *racer(void *arg)
{
    struct racer *r = arg;
    struct nt_req req = { .name = RACE_NET, .subnet = r->subnet };
    pthread_barrier_wait(&g_race_start);
    r->rc = nt_create(&req, NULL, &r->cc);
    r->message = tl_errmsg() != NULL ? strdup(tl_errmsg()) : NULL;
    tl_clear_errmsg();
    return NULL;
}

static void check_race(const struct racer *racers)
{
    int winners = 0;
    for (int i = 0; i < RACERS; i++) {
        const struct racer *r = &racers[i];
        if (r->rc == 0) {
            winners++;
            CHECKF(r->message == NULL, "the winner got a message: %s", r->message);
            continue;
        }
        char *conflict = tl_asprintf("Subnet \"%s\" conflict with CNI config or host network", r->subnet);
        bool expected = r->message != NULL &&
                        (strcmp(r->message, "Network name \"" RACE_NET "\" has been used") == 0 ||
                         strcmp(r->message, conflict) == 0);
        CHECKF(r->rc == -1 && expected, "the loser (%s): rc %d: %s", r->subnet, r->rc, r->message ? r->message : "NULL");
        CHECK_EQ_INT(r->cc, NT_ERR_INPUT);
        free(conflict);
    }
    CHECK_EQ_INT(winners, 1);
}

/* Every file left in the conf dir is a complete network file (no temp files either). */
static size_t check_conf_dir(void)
{
    DIR *dir = opendir(g_env.conf);
    size_t files = 0;
    if (!CHECK(dir != NULL)) {
        return 0;
    }
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        files++;
        size_t len = strlen(e->d_name);
        CHECKF(strncmp(e->d_name, "isulacni-", 9) == 0 && len > 9 && strcmp(e->d_name + len - 9, ".conflist") == 0,
               "unexpected file %s in the conf dir", e->d_name);
        char *path = tl_asprintf("%s/%s", g_env.conf, e->d_name);
        char *text = tl_read_file(path);
        CHECKF(complete_json(text), "%s is torn", path);
        CHECKF(tl_run(NULL, "python3 -m json.tool '%s' >/dev/null", path) == 0, "%s is not JSON", path);
        free(text);
        free(path);
    }
    closedir(dir);
    return files;
}

int main(void)
{
    require_root();
    if (!nt_env_init(&g_env, "native-concurrency", true)) {
        tl_env_free(&g_env);
        return test_summary("test_native_concurrency");
    }
    if (nt_init(&g_env, g_env.conf)) {
        pthread_t threads[CREATORS + READERS + RACERS];
        struct racer racers[RACERS] = { { .subnet = "10.250.120.0/24" }, { .subnet = "10.250.120.0/25" } };
        size_t n = 0;
        CHECK(pthread_barrier_init(&g_race_start, NULL, RACERS) == 0);
        for (long i = 0; i < READERS; i++) {
            CHECK(pthread_create(&threads[n++], NULL, reader, NULL) == 0);
        }
        for (long i = 0; i < CREATORS; i++) {
            CHECK(pthread_create(&threads[n++], NULL, creator, (void *)i) == 0);
        }
        for (int i = 0; i < RACERS; i++) {
            CHECK(pthread_create(&threads[n++], NULL, racer, &racers[i]) == 0);
        }
        for (size_t i = 0; i < n; i++) {
            CHECK(pthread_join(threads[i], NULL) == 0);
        }
        pthread_barrier_destroy(&g_race_start);
        check_race(racers);

        CHECK_EQ_INT(check_conf_dir(), 1); /* isulacni-race.conflist */
        char *race_path = nt_conflist_path(g_env.conf, RACE_NET);
        char *race_text = tl_read_file(race_path);
        char *race_subnet = nt_json_string(race_text, "subnet");
        const char *winner = racers[0].rc == 0 ? racers[0].subnet : racers[1].subnet;
        CHECK_EQ_STR(race_subnet, winner);
        nt_rm_ok(RACE_NET, __LINE__);
        CHECK(!nt_file_exists(race_path));
        CHECK_EQ_INT(check_conf_dir(), 0);
        CHECK(!network_module_ready(NT_NATIVE));
        free(race_subnet);
        free(race_text);
        free(race_path);
        for (int i = 0; i < RACERS; i++) {
            free(racers[i].message);
        }
        network_module_exit();
    }
    static const char *const subnets[] = { "10.250.100.", "10.250.101.", "10.250.102.", "10.250.103.",
                                           "10.250.120.", NULL };
    nt_check_no_rules(subnets, __LINE__);
    tl_env_free(&g_env);
    return test_summary("test_native_concurrency");
}
