package idempotency

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/redact"
)

// dynaliteModule is the local DynamoDB that deploy/tools installs (`make deps`).
var dynaliteModule = filepath.Join("..", "..", "deploy", "tools", "node_modules", "dynalite")

// startScript runs dynalite in memory on a free loopback port (dynalite's own --port 0 means
// its default port) and prints the port. Tables become ACTIVE at once. It exits when its
// standard input closes, so a test binary that dies (a timeout, a panic) leaves no server behind.
const startScript = `const d = require(process.argv[1])({createTableMs: 0, deleteTableMs: 0});
d.listen(0, '127.0.0.1', () => console.log(d.address().port));
process.stdin.on('end', () => process.exit(0)).resume();`

var dynalite struct {
	once     sync.Once
	endpoint string
	skip     string
	cmd      *exec.Cmd
	stdin    io.Closer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if c := dynalite.cmd; c != nil {
		_ = dynalite.stdin.Close()
		_ = c.Process.Kill()
		_ = c.Wait()
	}
	os.Exit(code)
}

// dynaliteEndpoint starts dynalite once for the package's tests and returns its URL, or skips
// the test saying why it cannot.
func dynaliteEndpoint(t *testing.T) string {
	t.Helper()
	dynalite.once.Do(func() {
		node, err := exec.LookPath("node")
		if err != nil {
			dynalite.skip = "node is not installed"
			return
		}
		abs, _ := filepath.Abs(dynaliteModule)
		if _, err := os.Stat(filepath.Join(abs, "package.json")); err != nil {
			dynalite.skip = "dynalite is not installed (run `make deps`): " + abs
			return
		}
		cmd := exec.Command(node, "-e", startScript, abs)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			dynalite.skip = err.Error()
			return
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			dynalite.skip = err.Error()
			return
		}
		if err := cmd.Start(); err != nil {
			dynalite.skip = "starting dynalite: " + err.Error()
			return
		}
		dynalite.cmd, dynalite.stdin = cmd, stdin
		port := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			port <- strings.TrimSpace(line)
		}()
		select {
		case p := <-port:
			if p == "" {
				dynalite.skip = "dynalite did not start"
				return
			}
			dynalite.endpoint = "http://127.0.0.1:" + p
		case <-time.After(20 * time.Second):
			dynalite.skip = "dynalite did not start within 20 s"
		}
	})
	if dynalite.endpoint == "" {
		t.Skip(dynalite.skip)
	}
	return dynalite.endpoint
}

var tableSeq atomic.Int64

// testSettings are the settings of a store on a local DynamoDB; the credentials are fakes.
func testSettings(endpoint, table string) Settings {
	return Settings{Table: table, TTL: time.Hour, Endpoint: endpoint, Region: "us-east-1",
		AccessKeyID: "AKIDLOCAL", SecretAccessKey: redact.NewSecret("local-secret"), SessionToken: redact.NewSecret("local-token")}
}

func testClient() *httpx.Client {
	return &httpx.Client{Policy: httpx.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}}
}

// newTable creates a table laid out as template.yaml's IdempotencyTable in dynalite, and
// returns its name.
func newTable(t *testing.T, endpoint string) string {
	t.Helper()
	name := fmt.Sprintf("lbfn-idempotency-%d", tableSeq.Add(1))
	admin, err := New(testSettings(endpoint, name), testClient())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	create := map[string]any{
		"TableName":            name,
		"AttributeDefinitions": []map[string]string{{"AttributeName": "id", "AttributeType": "S"}},
		"KeySchema":            []map[string]string{{"AttributeName": "id", "KeyType": "HASH"}},
		"BillingMode":          "PAY_PER_REQUEST",
	}
	if err := admin.call(ctx, "CreateTable", create, nil); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	for range 100 {
		var out struct{ Table struct{ TableStatus string } }
		if err := admin.call(ctx, "DescribeTable", map[string]string{"TableName": name}, &out); err != nil {
			t.Fatalf("DescribeTable: %v", err)
		}
		if out.Table.TableStatus == "ACTIVE" {
			return name
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("table %s never became ACTIVE", name)
	return ""
}
