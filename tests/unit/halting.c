/*
 * halting.c - forked runs of paths that halt the CPU (halting.h).
 */
#define _GNU_SOURCE /* fork, pipe, sigaction, REG_RIP */

#include "halting.h"

#include "drivers/serial/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static int child_log_fd = -1;

static void pipe_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (write(child_log_fd, line, len) < 0 || write(child_log_fd, "\n", 1) < 0)
		_exit(74);
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)si;
	const ucontext_t *uc = uctx;
	const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
	_exit(ip[0] == 0xfa || ip[0] == 0xf4   ? HALTED_CLI
	      : ip[0] == 0xee || ip[0] == 0xe6 ? HALTED_OUT
					       : HALTED_OTHER);
}

char halting_out[32768];

int halting_run(void (*setup)(void), void (*fn)(void))
{
	int fds[2];
	memset(halting_out, 0, sizeof(halting_out));
	if (pipe(fds) != 0)
		return -1000;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_log_fd = fds[1];
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		alarm(20);
		if (setup)
			setup();
		log_init("t", LOG_DEBUG);
		log_add_sink(pipe_sink, NULL);
		fn();
		_exit(HALT_RETURNED);
	}
	close(fds[1]);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fds[0], halting_out + got, sizeof(halting_out) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(halting_out) - 1) {
			char sink[4096];
			while (read(fds[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	close(fds[0]);
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return -1001;
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}
