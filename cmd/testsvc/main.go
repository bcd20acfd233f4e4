// Command testsvc is a tiny, self-contained HTTP service used by opdeploy's
// Docker test suites and benchmarks.
//
// It is built with CGO_ENABLED=0 and packed alone into a FROM scratch image
// (no shell, no libc, no other files), so it is both the service and its own
// healthcheck probe:
//
//	testsvc [serve] [flags]   run the service (default subcommand)
//	testsvc probe [flags]     GET a URL, exit 0 on 2xx, 1 otherwise
//	testsvc version           print the version
//
// The service can be told to become healthy late, never, or on demand, to
// exit after a delay or on request, to crash-loop, to log periodically, to
// ignore SIGTERM, and to read and write files (to check that volume data
// survives container recreation). Every flag can also be set through the
// environment variable TESTSVC_<NAME> (upper case, dashes as underscores,
// e.g. --healthy-after is TESTSVC_HEALTHY_AFTER); a flag given on the command
// line wins over the environment. An empty variable counts as unset.
//
// A typical compose service:
//
//	services:
//	  web:
//	    image: testsvc
//	    environment:
//	      TESTSVC_HEALTHY_AFTER: 2s
//	    healthcheck:
//	      test: ["CMD", "/testsvc", "probe"]
//	      interval: 1s
//
// testsvc is test tooling: the /data and /exit endpoints give any client
// full control over the process and its files. Never expose it.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); without
// it, the module version from the build info is used.
var version = ""

// proc is everything the program takes from its environment, so that tests
// can run it in-process.
type proc struct {
	args    []string
	environ []string
	stdout  io.Writer
	stderr  io.Writer
	now     func() time.Time
	// notify starts signal delivery for the service; nil means no signals.
	notify func() <-chan os.Signal
	// ready, if set, is called with the listening address once the
	// service accepts connections (tests use it with --listen 127.0.0.1:0).
	ready func(net.Addr)
}

func main() {
	os.Exit(run(&proc{
		args:    os.Args[1:],
		environ: os.Environ(),
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		now:     time.Now,
		notify: func() <-chan os.Signal {
			ch := make(chan os.Signal, 4)
			signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
			return ch
		},
	}))
}

// run dispatches to a subcommand and returns the process exit code.
func run(p *proc) int {
	if p.now == nil {
		p.now = time.Now
	}
	// Writes come from the serve loop and from HTTP handlers concurrently.
	p.stdout = &syncWriter{w: p.stdout}
	p.stderr = &syncWriter{w: p.stderr}

	cmd, args := "serve", p.args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
			fmt.Fprintln(p.stdout, versionString())
			return 0
		}
		return runServe(p, args)
	case "probe":
		return runProbe(p, args)
	case "daemonize":
		return runDaemonize(p, args)
	case "detach":
		return runDetach(p, args)
	case "version":
		if len(args) > 0 {
			fmt.Fprintf(p.stderr, "testsvc version: unexpected arguments %q\n", args)
			return 2
		}
		fmt.Fprintln(p.stdout, versionString())
		return 0
	case "help":
		usage(p.stdout)
		return 0
	default:
		fmt.Fprintf(p.stderr, "testsvc: unknown subcommand %q\n", cmd)
		usage(p.stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  testsvc [serve] [flags]   run the test service (default)
  testsvc probe [flags]     GET a URL, exit 0 on 2xx, 1 otherwise (healthcheck)
  testsvc daemonize ARGS... start testsvc ARGS... as a daemon (double fork), then wait until killed
  testsvc version           print the version
  testsvc help              print this help

Run "testsvc serve -h" or "testsvc probe -h" for the flags. Every flag can
also be set with the environment variable TESTSVC_<NAME>; flags win.
`)
}

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	return fmt.Sprintf("testsvc %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// syncWriter serialises writes so that concurrent log lines do not
// interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
