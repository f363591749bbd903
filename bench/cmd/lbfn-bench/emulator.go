package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/emulator"
)

// The emulator runs in a child process (this program started again with -emulator), so that
// its CPU time and allocations never count towards the client measured in this one.

// serveEmulator is the child: it serves the emulator on loopback, answering every request
// latency late, prints its URL, and exits when its standard input closes (the parent died
// or is done).
func serveEmulator(latency time.Duration) {
	emu := emulator.New(emulator.Options{CTyunPolls: -1}) // CTyun says done at once: one call per create
	var h http.Handler = emu
	if latency > 0 {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(latency)
			emu.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

// cloud is a running emulator child.
type cloud struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.Closer
}

// startCloud starts an emulator child answering latency late.
func startCloud(latency time.Duration) (*cloud, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-emulator", "-latency", latency.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("emulator child: %v", err)
	}
	return &cloud{URL: strings.TrimSpace(line), cmd: cmd, stdin: stdin}, nil
}

func (c *cloud) Close() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// providerEnv points every provider at the emulator at url with its demo credentials.
func providerEnv(url string) []string {
	return []string{
		"JDCLOUD_ACCESS_KEY=" + emulator.DemoAccessKey,
		"JDCLOUD_SECRET_KEY=" + emulator.DemoSecretKey,
		"JDCLOUD_LB_ENDPOINT=" + url,
		"HUAWEICLOUD_SDK_AK=" + emulator.DemoAccessKey,
		"HUAWEICLOUD_SDK_SK=" + emulator.DemoSecretKey,
		"HUAWEICLOUD_SDK_PROJECT_ID=" + emulator.DemoProjectID,
		"HUAWEICLOUD_ELB_ENDPOINT=" + url,
		"CTYUN_AK=" + emulator.DemoAccessKey,
		"CTYUN_SK=" + emulator.DemoSecretKey,
		"CTYUN_ELB_ENDPOINT=" + url,
	}
}
