# The two commands of the README: `make run` and `make test` (plus `make bench` and `make fuzz`).
# Each installs what is missing first (Debian packages when root).
SHELL := /bin/bash

.PHONY: run test bench fuzz drills lint-deploy deps build clean

deps:
	@deploy/ensure-deps.sh

build: deps
	swift build $(if $(filter-out 0,$(RELEASE)),-c release,)

run: deps
	@deploy/run.sh

test: deps
	@deploy/test.sh

bench: deps
	@deploy/bench.sh

fuzz: deps
	@deploy/fuzz.sh

drills: deps
	@deploy/drills.sh

lint-deploy: deps
	@deploy/lint-deploy.sh

clean:
	rm -rf .build
