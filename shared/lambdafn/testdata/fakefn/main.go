// Command fakefn is a function binary on a fake operation, for the tests of lambdafn and
// lambdatest: "name" is required; "outcome" chooses a failure kind, "in_progress", "exit",
// "slow": log "fake call started", then create after sleepMs, or "deadline": create with the
// id the call's deadline in Unix milliseconds.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/lbfn/lbfn/shared/lambdafn"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

type request struct {
	op.Common
	Name    string `json:"name"`
	Outcome string `json:"outcome,omitempty"`
	SleepMs int    `json:"sleepMs,omitempty"`
}

type client struct{}

func main() {
	lambdafn.Start(&op.Spec[request, client]{
		FunctionName: "fake-create-thing",
		ProviderName: "fakecloud",
		Client: func() (client, error) {
			if os.Getenv("FAKE_KEY") == "" {
				return client{}, op.Errorf(op.KindConfig, "FAKE_KEY is not set")
			}
			return client{}, nil
		},
		Validate: func(r *request, v *validate.Report) { v.RequiredString("name", &r.Name) },
		Send: func(ctx context.Context, _ client, r *request, call op.Call) (op.Result, error) {
			switch r.Outcome {
			case "":
				return op.Result{Status: op.StatusCreated, ID: "id-" + r.Name, Attempts: 1, Response: json.RawMessage(`{}`)}, nil
			case "in_progress":
				return op.Result{Status: op.StatusInProgress, ClientToken: call.IdempotencyKey, RetryAfterSeconds: 1,
					Request: json.RawMessage(`{"name":"` + r.Name + `"}`)}, nil
			case "deadline":
				d, _ := ctx.Deadline()
				return op.Result{Status: op.StatusCreated, ID: strconv.FormatInt(d.UnixMilli(), 10), Attempts: 1, Response: json.RawMessage(`{}`)}, nil
			case "exit":
				os.Exit(3)
			case "slow":
				slog.InfoContext(ctx, "fake call started", "name", r.Name)
				time.Sleep(time.Duration(r.SleepMs) * time.Millisecond)
				return op.Result{Status: op.StatusCreated, ID: "id-" + r.Name, Attempts: 1, Response: json.RawMessage(`{}`)}, nil
			}
			return op.Result{}, op.Errorf(op.Kind(r.Outcome), "fake %s", r.Outcome)
		},
	})
}
