// Allocation budgets are measured per thread and metrics are scraped from a process-wide Meter: tests that run a
// pipeline at the same time (GC pressure trimming ArrayPool, a second pipeline's counters) would disturb both.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
