#!/bin/sh
# run.sh [GEFS-FLAGS...]: build gefs, ream gefs.img if there is none, and
# serve it in the foreground until interrupted.  Extra flags go to gefs,
# e.g. sh run.sh -a 'tcp!*!564' -A to serve Plan 9 machines too.
set -u
cd "$(dirname "$0")"
img=gefs.img

sh mk/deps build || exit 1
make -j"$(nproc 2>/dev/null || echo 2)" || { echo "run.sh: the build failed" >&2; exit 1; }
if [ ! -x ./gefs ]; then
	echo "run.sh: there is no server to run: ./gefs is not built," \
		"because this checkout has no main.c yet" >&2
	exit 1
fi

USER=${USER:-$(id -un)}
export USER

if [ ! -e "$img" ]; then
	echo "run.sh: reaming a new volume $img (4 GiB sparse) for user $USER"
	truncate -s 4G "$img" || exit 1
	if ! ./gefs -r "$USER" -f "$img"; then
		rm -f "$img"
		echo "run.sh: reaming $img failed (see above); nothing to serve" >&2
		exit 1
	fi
fi

# Where gefs will put its sockets (DESIGN.md §4), and what the flags ask for.
name=gefs
tcp=
noauth=
prev=
for a in "$@"; do
	case "$prev" in
	-n)	name=$a ;;
	-a)	case "$a" in tcp!*) tcp=$a ;; esac ;;
	esac
	case "$a" in
	-A)	noauth=1 ;;
	esac
	prev=$a
done
ns=${NAMESPACE:-/tmp/ns.$USER.${DISPLAY:-:0}}
sock=$ns/$name

# Is a 9P server answering on the socket?  A socket file alone may be stale.
listening() {
	[ -S "$1" ] && ./9p -a "unix!$1" -u none stat / >/dev/null 2>&1
}

if listening "$sock"; then
	echo "run.sh: something already serves $sock (another gefs?):" \
		"stop it, or give this one another name with -n NAME" >&2
	exit 1
fi

./gefs -f "$img" "$@" &
pid=$!
# A background job of a script ignores ^C: pass it on as a termination.
trap 'kill -TERM $pid 2>/dev/null' INT TERM HUP

while ! listening "$sock"; do
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		echo "run.sh: gefs exited (status $?) without serving $img; see its messages above" >&2
		exit 1
	fi
	sleep 0.2
done

echo
echo "gefs (pid $pid) is serving $img"
echo "  9P socket:       $sock"
echo "  console socket:  $sock.cmd"
echo
echo "From this machine:"
if [ -x ./9p ]; then
	echo "  ./9p -a 'unix!$sock' ls /"
else
	echo "  (the 9p client is not built yet in this checkout)"
fi
if [ -x ./9pfuse ]; then
	echo "  mkdir -p /mnt/gefs && ./9pfuse 'unix!$sock' /mnt/gefs"
else
	echo "  (the 9pfuse bridge is not built yet in this checkout)"
fi
if [ -x ./gefscons ]; then
	echo "  ./gefscons -n $name df        (the console: try help)"
fi
echo
echo "From a Plan 9 machine:"
if [ -n "$tcp" ]; then
	port=${tcp##*!}
	host=$(hostname -I 2>/dev/null | cut -d' ' -f1)
	echo "  srv tcp!${host:-$(hostname)}!$port gefs && mount /srv/gefs /n/gefs"
	[ -n "$noauth" ] ||
		echo "  (without -A, gefs refuses network clients until 9P authentication exists)"
else
	echo "  not listening on the network.  Restart with"
	echo "    sh run.sh -a 'tcp!*!564' -A"
	echo "  -a announces a TCP listener on port 564; -A turns authentication off,"
	echo "  which TCP needs for now: anyone who reaches the port may attach as any user."
fi
echo
echo "Interrupt (^C) to stop the server."

while :; do
	wait $pid
	st=$?
	# wait returns early when a trapped signal arrives; go on until gefs is gone
	kill -0 $pid 2>/dev/null || break
done
exit $st
