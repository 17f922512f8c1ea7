#!/bin/sh
# git in a FUSE mount: init, add, commit, branch, merge, gc, fsck; a
# clone out of the mount and back into it.
. "${0%/*}/lib.sh"
scratch
needfuse
command -v git >/dev/null || { notok "git is installed"; done_testing; exit 1; }
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

export GIT_AUTHOR_NAME=glenda GIT_AUTHOR_EMAIL=glenda@example.org
export GIT_COMMITTER_NAME=glenda GIT_COMMITTER_EMAIL=glenda@example.org
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
g() {
	git -C "$M/repo" "$@" >>"$T/git.log" 2>&1
}

check "git init" git init -q -b main "$M/repo"
cp -r /usr/include/linux "$M/repo/linux"
check "git add of $(find "$M/repo/linux" -type f | wc -l) files" g add linux
check "git commit" g commit -q -m "linux headers"
echo "change" >>"$M/repo/linux/input.h"
rm "$M/repo/linux/kd.h"
check "git status sees the changes" test "$(git -C "$M/repo" status --porcelain | wc -l)" -eq 2
check "git commit -a" g commit -q -a -m "a change"
check "git branch and checkout" g checkout -q -b side HEAD~1
echo side >"$M/repo/side"
check "commit on a branch" sh -c "git -C '$M/repo' add side && git -C '$M/repo' commit -q -m side" 
check "git merge" g -c core.editor=true merge -q --no-ff main -m merge
check "the merge has both" test -f "$M/repo/side" -a ! -e "$M/repo/linux/kd.h"
check "git gc" g gc -q
check "git fsck --full" g fsck --full --strict
is "$(git -C "$M/repo" rev-list --count HEAD)" 4 "four commits"
check "git clone out of the mount" git clone -q "$M/repo" "$T/out"
check "git clone into the mount" git clone -q "$T/out" "$M/again"
check "git fsck of that" git -C "$M/again" fsck --full --strict
diff -r --exclude=.git "$M/repo" "$M/again" >"$T/diff" 2>&1
is "$?" 0 "the clone's files are the repository's"
[ -s "$T/diff" ] && head "$T/diff" | sed 's/^/#   /'
[ "$tapfail" -gt 0 ] && sed 's/^/#   /' "$T/git.log" | tail -20
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
