package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// runDaemonize implements `testsvc daemonize ARGS...`: it starts `testsvc
// ARGS...` as a daemon does — through an intermediate process that exits
// at once, so the daemon is left with no parent but the container's init,
// outside the caller's process tree (though still in its session) — and
// then waits until it is killed. opdeploy must kill both when an exec that
// ran this times out.
func runDaemonize(p *proc, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(p.stderr, "usage: testsvc daemonize ARGS...")
		return 2
	}
	if err := startSelf(append([]string{"detach"}, args...)...); err != nil {
		fmt.Fprintf(p.stderr, "testsvc daemonize: %v\n", err)
		return 1
	}
	fmt.Fprintln(p.stdout, "testsvc daemonized; waiting until killed")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return 0
}

// runDetach implements `testsvc detach ARGS...`, the intermediate of
// daemonize: it starts `testsvc ARGS...` and exits without waiting.
func runDetach(p *proc, args []string) int {
	if err := startSelf(args...); err != nil {
		fmt.Fprintf(p.stderr, "testsvc detach: %v\n", err)
		return 1
	}
	return 0
}

func startSelf(args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return exec.Command(self, args...).Start()
}
