/*
 * gefscons: a client of the gefs console (gefs(8)).
 *
 *	gefscons [-n name] [command [arg...]]
 *
 * With a command: connect to the console socket, send the command (its
 * arguments quoted as the console's rc-style parser needs), print its
 * output up to the next prompt, and exit 1 if the console refused it or
 * it failed.  Without: send each line of standard input in turn, showing
 * the console's prompts if standard input is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"

static char prompt[] = "gefs# ";

static void
usage(void)
{
	fprintf(stderr, "usage: gefscons [-n name] [command [arg...]]\n");
	exit(2);
}

/* The console socket: NAME.cmd in the service directory, or a path. */
static int
dial(char *name)
{
	struct sockaddr_un sa;
	char dir[256];
	int fd, n;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if(strchr(name, '/') != nil)
		n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s", name);
	else{
		if(nsdir(dir, sizeof dir) == -1)
			sysfatal("%s", errstr());
		n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s.cmd", dir, name);
	}
	if(n < 0 || n >= (int)sizeof sa.sun_path)
		sysfatal("console socket path too long");
	if((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		sysfatal("socket: %s", strerror(errno));
	if(connect(fd, (struct sockaddr*)&sa, sizeof sa) == -1)
		sysfatal("%s: %s", sa.sun_path, strerror(errno));
	return fd;
}

static int
writeall(int fd, char *p, long n)
{
	long w;

	while(n > 0){
		w = write(fd, p, n);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/*
 * What the console says up to its next prompt (which is left out) or
 * until it hangs up; *eof tells which.  The caller frees it.
 */
static char*
reply(int fd, int *eof)
{
	char *s;
	long n, cap, r;
	int np;

	np = strlen(prompt);
	cap = 4096;
	s = emalloc(cap);
	n = 0;
	*eof = 0;
	for(;;){
		if(n >= np && memcmp(s+n-np, prompt, np) == 0 && (n == np || s[n-np-1] == '\n')){
			n -= np;
			break;
		}
		if(n + 1024 >= cap){
			cap *= 2;
			s = erealloc(s, cap);
		}
		r = read(fd, s+n, cap-n-1);
		if(r < 0 && errno == EINTR)
			continue;
		if(r <= 0){
			*eof = 1;
			break;
		}
		n += r;
	}
	s[n] = 0;
	return s;
}

/*
 * Did the command fail?  The console ends the output of a refused or
 * failed command with a usage message, "unknown command", a syntax
 * error, check's verdict "broken", users' "load users:", or the
 * command's name, a colon and the error (gefs(8)).  Lines that report a
 * change (permit, reserve) carry an arrow and are never errors.
 */
static int
failed(char *cmd, char *out)
{
	char *last, *e;
	size_t n;

	n = strlen(out);
	while(n > 0 && out[n-1] == '\n')
		out[--n] = 0;
	last = strrchr(out, '\n');
	last = last != nil ? last+1 : out;
	if(strncmp(last, "usage: ", 7) == 0
	|| strncmp(last, "unknown command '", 17) == 0
	|| strncmp(last, "syntax error: ", 14) == 0
	|| strncmp(last, "load users: ", 12) == 0
	|| strncmp(last, "broken", 6) == 0)
		return 1;
	n = strcspn(cmd, " \t'");
	e = last + n;
	return n > 0 && strncmp(last, cmd, n) == 0 && e[0] == ':' && e[1] == ' '
		&& strstr(last, "\xe2\x86\x92") == nil;
}

/*
 * Run the command line of n bytes (sent as it is, NUL bytes and all);
 * 1 if it failed, -1 if the console hung up before answering.
 */
static int
run(int fd, char *line, long n)
{
	char *out, *l;
	int eof, bad;

	l = emalloc(n+1);
	memcpy(l, line, n);
	l[n] = '\n';
	if(writeall(fd, l, n+1) == -1){
		free(l);
		fprintf(stderr, "gefscons: the console hung up\n");
		return -1;
	}
	free(l);
	out = reply(fd, &eof);
	fputs(out, stdout);
	fflush(stdout);
	bad = failed(line, out);
	free(out);
	return bad;
}

/* arg as one field of an rc-style command line. */
static void
quote(char *dst, char *arg)
{
	char *p;

	if(*arg != 0 && strpbrk(arg, " \t'") == nil){
		strcat(dst, arg);
		return;
	}
	dst += strlen(dst);
	*dst++ = '\'';
	for(p = arg; *p != 0; p++){
		if(*p == '\'')
			*dst++ = '\'';
		*dst++ = *p;
	}
	*dst++ = '\'';
	*dst = 0;
}

int
main(int argc, char **argv)
{
	char *name, *line, *s;
	size_t n, cap;
	int i, fd, eof, r, st, tty;
	ssize_t len;

	setprogname("gefscons");
	name = "gefs";
	/* options end at the command: snap -l is the console's */
	for(optind = 1; optind < argc && argv[optind][0] == '-'; optind++){
		if(strcmp(argv[optind], "--") == 0){
			optind++;
			break;
		}
		if(strcmp(argv[optind], "-n") == 0 && optind+1 < argc)
			name = argv[++optind];
		else if(strncmp(argv[optind], "-n", 2) == 0 && argv[optind][2] != 0)
			name = argv[optind]+2;
		else
			usage();
	}
	fd = dial(name);
	s = reply(fd, &eof);
	fputs(s, stdout);
	if(eof)
		sysfatal("the console hung up");
	free(s);
	if(optind < argc){
		n = 1;
		for(i = optind; i < argc; i++)
			n += 2*strlen(argv[i]) + 3;
		line = emalloc(n);
		for(i = optind; i < argc; i++){
			if(i > optind)
				strcat(line, " ");
			quote(line, argv[i]);
		}
		r = run(fd, line, strlen(line));
		free(line);
		return r != 0;
	}
	tty = isatty(0);
	st = 0;
	line = nil;
	cap = 0;
	for(;;){
		if(tty){
			fputs(prompt, stdout);
			fflush(stdout);
		}
		if((len = getline(&line, &cap, stdin)) == -1)
			break;
		if(len > 0 && line[len-1] == '\n')
			line[--len] = 0;
		if((r = run(fd, line, len)) == -1){
			st = 1;
			break;
		}
		st |= r;
	}
	free(line);
	close(fd);
	return st;
}
