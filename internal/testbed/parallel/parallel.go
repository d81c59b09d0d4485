package parallel

import (
	"errors"
	"sync"
)

// Each calls fn(i) for every i in [0, n), at most limit at a time (limit < 1: all at once), waits
// for all of them and returns their errors joined in index order (nil if none failed). fn must
// stop on its own (a context it holds) when the others' failures make its work pointless.
func Each(n, limit int, fn func(i int) error) error {
	if limit < 1 || limit > n {
		limit = n
	}
	errs := make([]error, n)
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
