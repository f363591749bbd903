package main

import (
	"slices"
	"time"
)

// median is the median of f over xs (the mean of the middle two for an even count).
func median[T any](xs []T, f func(T) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func medianDuration[T any](xs []T, f func(T) time.Duration) time.Duration {
	return time.Duration(median(xs, func(x T) float64 { return float64(f(x)) }))
}

func medianOf(ds []time.Duration) time.Duration {
	return medianDuration(ds, func(d time.Duration) time.Duration { return d })
}
