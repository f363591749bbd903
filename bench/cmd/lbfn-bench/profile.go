package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/lambdafn"
)

// profileInvoke runs n warm invokes of the huawei-create-master-slave-pool handler in this
// process (lambdafn's, as the bootstrap serves it, the provider's answer replayed), under the
// CPU profiler, and returns the heaviest of lbfn's functions and the JSON and HTTP work under
// them, as `go tool pprof -top -cum` lists them: the evidence of where a warm invoke goes.
func profileInvoke(root, url, tmp string, n int) (string, error) {
	setEnv(providerEnv(url))
	saved := http.DefaultTransport
	http.DefaultTransport = &replay{next: saved, seen: map[string]*recorded{}}
	defer func() { http.DefaultTransport = saved }()
	raw, err := event(root, "huawei-create-master-slave-pool", "direct")
	if err != nil {
		return "", err
	}
	src, err := newEventSource(raw)
	if err != nil {
		return "", err
	}
	f := lambdafn.New(huaweicloud.NewCreateMasterSlavePool(huaweicloud.FromEnv), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	evs := make([][]byte, n+n/10)
	for i := range evs {
		evs[i] = src.next()
	}
	invoke := func(ev []byte) error {
		out, err := f.Invoke(context.Background(), ev)
		if err == nil {
			err = checkOurs(out)
		}
		return err
	}
	for _, ev := range evs[n:] { // warm up
		if err := invoke(ev); err != nil {
			return "", err
		}
	}
	path := filepath.Join(tmp, "invoke.pprof")
	file, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	if err := pprof.StartCPUProfile(file); err != nil {
		return "", err
	}
	for _, ev := range evs[:n] {
		if err := invoke(ev); err != nil {
			pprof.StopCPUProfile()
			return "", err
		}
	}
	pprof.StopCPUProfile()
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=400", path).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v", err)
	}
	return pickProfileLines(string(out)), nil
}

// pickProfileLines keeps the header and the lines naming lbfn's packages or the JSON, HTTP,
// logging and backoff work a call does, shortened.
func pickProfileLines(top string) string {
	var b strings.Builder
	kept := 0
	for _, line := range strings.Split(top, "\n") {
		switch {
		case strings.Contains(line, "flat%"):
		case strings.Contains(line, "lbfn/lbfn/shared/"), strings.Contains(line, "encoding/json.Unmarshal"),
			strings.Contains(line, "encoding/json.(*Encoder).Encode"), strings.Contains(line, "net/http.(*Client).Do"),
			strings.Contains(line, "log/slog.(*Logger).LogAttrs"), strings.Contains(line, "backoff/v5.Retry"):
			if kept++; kept > 45 {
				continue
			}
		default:
			continue
		}
		if i := strings.Index(line, "[go.shape"); i > 0 {
			line = line[:i] + "[…]"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}
