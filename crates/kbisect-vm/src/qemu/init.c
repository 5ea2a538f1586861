/*
 * kbisect's /init for the test machine's initramfs (compiled statically on
 * the host by kbisect-vm's qemu tester, cached by content hash).
 *
 * It proves the kernel booted and can run a program (the basic test: it
 * forks and execs itself as a trivial program), runs /kbisect/repro for the
 * configured time, reports how that ended, and shuts the machine down. Every
 * step prints a marker line the host reads from the serial console; the
 * verdict comes from the console alone (qemu exits 0 after a crash too).
 *
 * Markers (each at the start of its own line):
 *   KBISECT-BASIC-OK                 the trivial program ran and exited 0
 *   KBISECT-BASIC-FAIL: why          it did not
 *   KBISECT-REPRO-START: N ms        the reproducer is about to run
 *   KBISECT-REPRO-EXEC-FAIL: why     it could not be started
 *   KBISECT-REPRO-EXIT: N            it exited with status N
 *   KBISECT-REPRO-SIGNAL: N          it was killed by signal N
 *   KBISECT-REPRO-TIMEOUT: N ms      it ran for the whole time and was killed
 *   KBISECT-END                      init is about to power off
 *
 * /kbisect/config holds `key=value` lines: run_ms (how long the reproducer
 * may run) and settle_ms (how long to wait after it for late reports).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One write per line so that kernel messages cannot split a marker. */
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	while (write(1, buf, n) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static long config(const char *key, long dflt)
{
	char line[128];
	size_t len = strlen(key);
	long v = dflt;
	FILE *f = fopen("/kbisect/config", "r");

	if (!f)
		return dflt;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == '=')
			v = strtol(line + len + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

/* The kernel hands init /dev/console as fds 0-2 when the archive has the
 * node; reopen it from devtmpfs when it did not. */
static void console(void)
{
	int fd;

	if (fcntl(1, F_GETFD) != -1)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static void reap_for(long ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (now_ms() >= end)
			return;
		sleep_ms(20);
	}
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
	sync();
	say("KBISECT-END");
	/* Power off where the machine can (ACPI); a kernel without it only
	 * halts there, so reboot, which qemu -no-reboot turns into an exit. */
	if (access("/sys/firmware/acpi", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	long run_ms, settle_ms;
	long long deadline;
	pid_t pid, r;
	int st = 0;

	if (argc > 1 && !strcmp(argv[1], "basic")) {
		say("kbisect-init: trivial program ran");
		return 0;
	}

	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/tmp", 01777);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	console();
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	run_ms = config("run_ms", 60000);
	settle_ms = config("settle_ms", 1000);

	pid = fork();
	if (pid < 0) {
		say("KBISECT-BASIC-FAIL: fork: %s", strerror(errno));
		finish();
	}
	if (pid == 0) {
		execl("/init", "/init", "basic", (char *)NULL);
		say("kbisect-init: exec /init: %s", strerror(errno));
		_exit(127);
	}
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		say("KBISECT-BASIC-FAIL: the trivial program ended with status 0x%x", st);
		finish();
	}
	say("KBISECT-BASIC-OK");

	say("KBISECT-REPRO-START: %ld ms", run_ms);
	pid = fork();
	if (pid < 0) {
		say("KBISECT-REPRO-EXEC-FAIL: fork: %s", strerror(errno));
		finish();
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (chdir("/tmp") < 0)
			(void)!chdir("/");
		execl("/kbisect/repro", "/kbisect/repro", (char *)NULL);
		say("KBISECT-REPRO-EXEC-FAIL: exec /kbisect/repro: %s", strerror(errno));
		_exit(127);
	}
	deadline = now_ms() + run_ms;
	for (;;) {
		r = waitpid(-1, &st, WNOHANG);
		if (r == pid)
			break;
		if (r > 0)
			continue; /* an orphan the reproducer left */
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			say("KBISECT-REPRO-TIMEOUT: %ld ms", run_ms);
			goto done;
		}
		sleep_ms(20);
	}
	if (WIFEXITED(st))
		say("KBISECT-REPRO-EXIT: %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("KBISECT-REPRO-SIGNAL: %d", WTERMSIG(st));
done:
	/* Whatever the reproducer left running (daemons, other groups). */
	kill(-1, SIGKILL);
	reap_for(settle_ms);
	finish();
}
