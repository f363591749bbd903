package op_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// An operation is declared once, as an op.Spec: its request type, its rules and its call.
// Decoding, dry runs, idempotency keys and the result come from op; the triggers (shared/trigger,
// shared/lambdafn) hand it raw requests.

// CreateWidgetRequest is the request of a made-up "demo-create-widget": the fields every
// request may carry (op.Common), then the routing field and the provider's own body object,
// with the provider's JSON names and optional fields as pointers.
type CreateWidgetRequest struct {
	op.Common
	Region string  `json:"region"`
	Widget *Widget `json:"widget"`
}

type Widget struct {
	Name string `json:"name"`
	Size *int   `json:"size,omitempty"`
}

// widgetClient stands in for a provider's client, which would sign the request and send it
// (see shared/httpx); Spec.Client builds it (from the environment, in a function).
type widgetClient struct{ made int }

func (c *widgetClient) create(r *CreateWidgetRequest) (op.Result, error) {
	c.made++
	id := fmt.Sprintf("w-%d", c.made)
	answer, err := json.Marshal(map[string]any{"widget": map[string]any{"id": id, "name": r.Widget.Name}})
	if err != nil {
		return op.Result{}, op.Wrap(op.KindProvider, err, "")
	}
	return op.Result{Status: op.StatusCreated, ID: id, RequestID: "req-1", Attempts: 1, Response: answer}, nil
}

// CreateWidget is the operation: a function's main.go hands it to its trigger.
var CreateWidget = &op.Spec[CreateWidgetRequest, *widgetClient]{
	FunctionName: "demo-create-widget",
	ProviderName: "demo",
	Client:       func() (*widgetClient, error) { return &widgetClient{}, nil },
	// Validate records every broken rule with its JSON path; unknown fields and wrong JSON
	// types are reported before it runs.
	Validate: func(r *CreateWidgetRequest, v *validate.Report) {
		v.RequiredString("region", &r.Region)
		if v.Required("widget", r.Widget != nil) {
			v.RequiredString("widget.name", &r.Widget.Name)
			v.Range("widget.size", r.Widget.Size, 1, 10)
		}
	},
	// Call runs only for a valid request that is not a dry run.
	Send: func(ctx context.Context, c *widgetClient, r *CreateWidgetRequest, call op.Call) (op.Result, error) {
		return c.create(r)
	},
}

// printJSON prints a result as a function answers it.
func printJSON(res *op.Result) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Println(err)
	}
}

// Running a valid request: the call's outcome becomes the result, under the request's own
// idempotency key.
func ExampleSpec() {
	raw := []byte(`{"region":"demo-1","idempotencyKey":"widget-web","widget":{"name":"web","size":3}}`)
	res := op.Run(context.Background(), CreateWidget, raw, op.Meta{Trigger: "direct"})
	printJSON(res)
	// Output:
	// {
	//   "ok": true,
	//   "function": "demo-create-widget",
	//   "provider": "demo",
	//   "status": "created",
	//   "id": "w-1",
	//   "requestId": "req-1",
	//   "attempts": 1,
	//   "idempotencyKey": "widget-web",
	//   "response": {
	//     "widget": {
	//       "id": "w-1",
	//       "name": "web"
	//     }
	//   }
	// }
}

// A request that breaks rules is answered with every violation, each named by its JSON path,
// and nothing is called: here an unknown field (a typo), a missing one and one out of range.
func ExampleSpec_violations() {
	raw := []byte(`{"regoin":"demo-1","widget":{"name":"web","size":30}}`)
	res := op.Run(context.Background(), CreateWidget, raw, op.Meta{Trigger: "direct"})
	printJSON(res)
	// Output:
	// {
	//   "ok": false,
	//   "function": "demo-create-widget",
	//   "provider": "demo",
	//   "error": {
	//     "kind": "validation",
	//     "message": "regoin: unknown field (and 2 more)",
	//     "retryable": false,
	//     "violations": [
	//       {
	//         "field": "regoin",
	//         "message": "unknown field"
	//       },
	//       {
	//         "field": "region",
	//         "message": "required"
	//       },
	//       {
	//         "field": "widget.size",
	//         "message": "must be between 1 and 10, got 30"
	//       }
	//     ],
	//     "providerCode": "",
	//     "providerMessage": "",
	//     "httpStatus": 0,
	//     "requestId": ""
	//   }
	// }
}

// A dry run checks every rule and answers "validated" without calling the provider. Without
// an idempotencyKey of its own, a request runs under the trigger's message id.
func ExampleSpec_dryRun() {
	raw := []byte(`{"region":"demo-1","dryRun":true,"widget":{"name":"web"}}`)
	res := op.Run(context.Background(), CreateWidget, raw, op.Meta{Trigger: "direct", MessageID: "m-1"})
	printJSON(res)
	// Output:
	// {
	//   "ok": true,
	//   "function": "demo-create-widget",
	//   "provider": "demo",
	//   "status": "validated",
	//   "idempotencyKey": "m-1"
	// }
}
