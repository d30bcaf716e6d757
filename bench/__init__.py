"""`make bench`: start the whole stack as separate processes (like production) and measure what it adds on
top of the physical floor of a run (LLM latency plus CPU). See bench/run.py and DESIGN section 9."""
