package e2e

import "github.com/lbfn/lbfn/shared/validate"

type validateViolation = validate.Violation
