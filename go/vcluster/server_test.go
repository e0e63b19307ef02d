package vcluster_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// referenceServer is the repository's reference server (packages/server), run as a process
// on 127.0.0.1 with a port the OS picks, its state in a SQLite file so it survives restarts.
type referenceServer struct {
	t     *testing.T
	URL   string
	port  string
	store string
	args  []string
	env   []string
	cmd   *exec.Cmd
	exit  chan error
	mu    sync.Mutex
}

type serverConfig struct {
	// timeScale multiplies the simulated provisioning durations (create takes 3 s at 1).
	timeScale string
	// faults is the VCLUSTER_API_INJECT_FAULTS value.
	faults string
	// args are further command-line arguments (e.g. --auth-config).
	args []string
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// nodeBinary is the Node the project pins (.toolchain, installed by `npm test`), or
// VCLUSTER_TEST_NODE, or node from PATH.
func nodeBinary(t *testing.T) string {
	if n := os.Getenv("VCLUSTER_TEST_NODE"); n != "" {
		return n
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	pinned := filepath.Join(repoRoot(t), ".toolchain", "node_modules", "node-"+runtime.GOOS+"-"+arch, "bin", "node")
	if _, err := os.Stat(pinned); err == nil {
		return pinned
	}
	n, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no Node.js to run the reference server: run `npm test` once (it installs the pinned Node) or set VCLUSTER_TEST_NODE")
	}
	return n
}

func startServer(t *testing.T, cfg serverConfig) *referenceServer {
	t.Helper()
	bin := filepath.Join(repoRoot(t), "packages", "server", "dist", "bin.js")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("reference server not built (%v): run `pnpm turbo run build --filter=@open-vcluster/server`", err)
	}
	if cfg.timeScale == "" {
		cfg.timeScale = "0.02"
	}
	s := &referenceServer{
		t:     t,
		store: filepath.Join(t.TempDir(), "vcluster.db"),
		port:  "0",
		env:   append(os.Environ(), "VCLUSTER_API_INJECT_FAULTS="+cfg.faults),
	}
	s.args = []string{bin, "--host", "127.0.0.1", "--time-scale", cfg.timeScale, "--heartbeat-interval", "1000", "--secret", "integration-test-secret"}
	s.args = append(s.args, cfg.args...)
	s.start()
	t.Cleanup(s.stop)
	return s
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:(\d+))`)

func (s *referenceServer) start() {
	s.t.Helper()
	args := append(append([]string{}, s.args...), "--store", "sqlite:"+s.store, "--port", s.port)
	cmd := exec.Command(nodeBinary(s.t), args...)
	cmd.Env = s.env
	cmd.Stderr = &prefixWriter{t: s.t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.cmd, s.exit = cmd, make(chan error, 1)
	s.mu.Unlock()
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exit := s.exit
	go func() { exit <- cmd.Wait() }()
	select {
	case m := <-ready:
		s.URL, s.port = m[1], m[2]
	case err := <-exit:
		s.t.Fatalf("reference server exited before listening: %v", err)
	case <-time.After(180 * time.Second):
		// A generous ceiling: on a heavily loaded machine Node alone may take a minute to start.
		_ = cmd.Process.Kill()
		s.t.Fatal("reference server did not start listening within 180 s")
	}
}

// stop shuts the server down gracefully (SIGTERM) and waits for it.
func (s *referenceServer) stop() {
	s.mu.Lock()
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exit:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exit
	}
}

// restart stops the server and starts it again on the same port and store.
func (s *referenceServer) restart() {
	s.stop()
	s.start()
}

type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.Contains(line, `"level":50`) || strings.Contains(line, `"level":60`) {
			w.t.Logf("server: %s", line)
		}
	}
	return len(p), nil
}

// testContext bounds a test with a generous ceiling: the machine may be heavily loaded.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
