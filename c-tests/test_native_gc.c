// ctest: RUN_SERIAL
/*
 * No leaked addresses after a daemon crash, with the real plugins (bridge, host-local, portmap):
 * a child process plays the daemon, creates a native network, attaches three containers (real
 * network namespaces) each with a mapped port, and is killed with SIGKILL. The test then starts
 * the module again, restores one container as live and calls network_module_gc: the two dead
 * containers' addresses are back in host-local's pool, their veths and DNAT rules are gone and
 * their cache entries removed; the live one keeps all of it and still pings its gateway.
 */
#define _GNU_SOURCE

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures/native-helpers.h"

#define NET "native-gc1"
#define SUBNET "10.253.41.0/24"
#define GATEWAY "10.253.41.1"
#define HOST_LOCAL_DIR "/var/lib/cni/networks/" NET
#define CONTAINERS 3
#define LIVE 2 /* the index of the container that survives */

static struct tl_env g_env;
static struct nt_container g_cs[CONTAINERS];
static int g_ports[CONTAINERS];

static network_api_conf *conf_of(int i)
{
    static const char *const nets[] = { NET, "eth0", NULL };
    char *ports = tl_asprintf("[{\"hostPort\":%d,\"containerPort\":80,\"protocol\":\"tcp\"}]", g_ports[i]);
    network_api_conf *conf = nt_native_conf(&g_cs[i], nets, ports);
    free(ports);
    return conf;
}

/* The daemon's life until it is killed: create, attach all, report, wait. */
static void daemon_life(int report)
{
    bool ok = nt_init(&g_env, g_env.conf) && nt_create_ok(NET, SUBNET, __LINE__);
    for (int i = 0; ok && i < CONTAINERS; i++) {
        network_api_conf *conf = conf_of(i);
        network_api_result_list *result = nt_attach_ok(conf, 1, __LINE__);
        ok = result != NULL;
        free_network_api_result_list(result);
        free_network_api_conf(conf);
    }
    char verdict = ok ? 'R' : 'F';
    if (write(report, &verdict, 1) != 1) {
        _exit(1);
    }
    for (;;) {
        pause();
    }
}

/* Forks the daemon, waits until it attached everything, kills it with SIGKILL. */
static bool run_and_kill_daemon(void)
{
    int pipefd[2];
    if (!CHECK(pipe(pipefd) == 0)) {
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        daemon_life(pipefd[1]);
    }
    close(pipefd[1]);
    char verdict = 0;
    struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
    bool reported = CHECK(pid > 0) && CHECKF(poll(&p, 1, 120 * 1000) == 1, "the daemon did not report") &&
                    read(pipefd[0], &verdict, 1) == 1;
    close(pipefd[0]);
    if (pid > 0) {
        CHECK(kill(pid, SIGKILL) == 0);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    return reported && CHECKF(verdict == 'R', "the daemon failed to attach its containers");
}

/* host-local's state: a file per allocated address holding the container id. */
static bool address_allocated_to(const char *id)
{
    return tl_run(NULL, "grep -rqs '%s' " HOST_LOCAL_DIR, id) == 0;
}

static bool rules_mention(const char *id)
{
    return tl_run(NULL, "iptables-save | grep -q '%s'", id) == 0;
}

static bool has_eth0(const struct nt_container *c)
{
    return tl_run(NULL, "ip netns exec %s ip link show eth0", c->nsname) == 0;
}

static int veths_on(const char *bridge)
{
    char *out = tl_output_of("ip -o link show master %s | wc -l", bridge);
    int n = out != NULL ? atoi(out) : -1;
    free(out);
    return n;
}

static char *bridge_of_net(void)
{
    char *json = NULL;
    char *bridge = NULL;
    if (CHECK_EQ_INT(network_module_conf_inspect(NT_NATIVE, NET, &json), 0)) {
        bridge = nt_json_string(json, "bridge");
    }
    free(json);
    return bridge;
}

static void what_the_crash_left(const char *bridge)
{
    for (int i = 0; i < CONTAINERS; i++) {
        const char *id = g_cs[i].id;
        CHECKF(tl_cache_exists(g_env.cache, NET, id, "eth0"), "no cache entry for %s", id);
        CHECKF(address_allocated_to(id), "no address held for %s", id);
        CHECKF(rules_mention(id), "no DNAT rule for %s", id);
        CHECK(has_eth0(&g_cs[i]));
    }
    CHECK_EQ_INT(veths_on(bridge), CONTAINERS);
}

static void gc_after_restart(const char *bridge)
{
    const char *live[] = { g_cs[LIVE].id };
    CHECK_EQ_INT(network_module_container_list_add(NT_NATIVE, NET, g_cs[LIVE].id), 0);
    int released = network_module_gc(NT_NATIVE, live, 1);
    CHECKF(released == CONTAINERS - 1, "released %d: %s", released, tl_errmsg_text());
    for (int i = 0; i < CONTAINERS; i++) {
        const char *id = g_cs[i].id;
        bool alive = i == LIVE;
        CHECKF(tl_cache_exists(g_env.cache, NET, id, "eth0") == alive, "%s: cache entry", id);
        CHECKF(tl_cache_exists(g_env.cache, "cni-loopback", id, "lo") == alive, "%s: loopback entry", id);
        CHECKF(address_allocated_to(id) == alive, "%s: address in host-local's pool", id);
        CHECKF(rules_mention(id) == alive, "%s: DNAT rules", id);
        CHECKF(has_eth0(&g_cs[i]) == alive, "%s: veth in its netns", id);
    }
    CHECK_EQ_INT(veths_on(bridge), 1);
    CHECK_EQ_INT(tl_run(NULL, "ip netns exec %s ping -c1 -W2 " GATEWAY, g_cs[LIVE].nsname), 0);
    /* A second GC finds nothing more; the live one is untouched. */
    CHECK_EQ_INT(network_module_gc(NT_NATIVE, live, 1), 0);
    CHECK(tl_cache_exists(g_env.cache, NET, g_cs[LIVE].id, "eth0"));
}

int main(void)
{
    require_root();
    bool ok = nt_env_init(&g_env, "native-gc", true);
    for (int i = 0; ok && i < CONTAINERS; i++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "ngc%d", i);
        ok = nt_container_new(&g_cs[i], tag, 40 + i) && CHECK((g_ports[i] = tl_free_port()) > 0);
    }
    bool crashed = ok && run_and_kill_daemon();
    /* Even when the daemon's life went wrong, what it made is removed through the module. */
    if (ok && nt_init(&g_env, g_env.conf)) {
        char *bridge = bridge_of_net();
        if (crashed && CHECK(bridge != NULL)) {
            what_the_crash_left(bridge);
            gc_after_restart(bridge);
        }
        for (int i = 0; i < CONTAINERS; i++) {
            network_api_conf *conf = conf_of(i);
            CHECK(tl_detach_ok(conf, NT_NATIVE, false, TL_HERE));
            free_network_api_conf(conf);
        }
        if (bridge != NULL) {
            nt_rm_ok(NET, __LINE__);
            CHECK(!nt_link_exists(bridge));
        }
        const char *ids[CONTAINERS + 1] = { g_cs[0].id, g_cs[1].id, g_cs[2].id, NULL };
        nt_check_no_rules(ids, __LINE__);
        tl_check_no_results(g_env.cache, TL_HERE);
        free(bridge);
        network_module_exit();
    }
    for (int i = 0; i < CONTAINERS; i++) {
        nt_container_free(&g_cs[i]);
    }
    tl_env_free(&g_env);
    return test_summary("test_native_gc");
}
