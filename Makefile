# Parley — two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build, start parleyd on http://127.0.0.1:8080
#   make test   the same set-up, then the whole suite (also under ASan+UBSan)
# For a server: make install (PREFIX, DESTDIR) or make deb (a Debian package in build-deb/).
JOBS ?= 2
DATA_DIR ?= var
HTTP ?= 127.0.0.1:8080
PREFIX ?= /usr/local
DEB_DIR ?= build-deb

.PHONY: all deps deps-test build build-asan build-fuzz run test unit integration fuzz format check-shape clean install deb

all: build

deps:
	@scripts/install-deps.sh

deps-test:
	@scripts/install-deps.sh --test

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)

build-fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

run: build
	@build/parleyctl --data-dir $(DATA_DIR) room show meet >/dev/null 2>&1 || \
	  build/parleyctl --data-dir $(DATA_DIR) room add meet --name "Demo meeting" --pin 1234 --allow-guests
	@build/parleyctl --data-dir $(DATA_DIR) room show echo >/dev/null 2>&1 || \
	  build/parleyctl --data-dir $(DATA_DIR) room add echo --name "Echo test" --test-call
	@build/parleyctl --data-dir $(DATA_DIR) account show demo >/dev/null 2>&1 || \
	  build/parleyctl --data-dir $(DATA_DIR) account add --cid demo --name "Demo account" >/dev/null
	@echo "Open http://$(HTTP)/web/?room=meet (host PIN 1234, guests without a PIN) or /web/?room=echo (test call)."
	@echo "RTM: account 'demo'; a token: build/parleyctl --data-dir $(DATA_DIR) jwt --account demo --client-id me"
	@echo "Uploads and webhooks may go to loopback and private addresses (a local sink): --allow-private-destinations 1."
	exec build/parleyd --data-dir $(DATA_DIR) --http $(HTTP) --allow-private-destinations 1

test: deps-test build build-asan build-fuzz
	@tests/run-all.sh

# The programs, the web client, /etc/parley/parley.conf (kept if there), /var/lib/parley
# and the systemd unit (docs/DEPLOYMENT.md "Install"). Reuses the release build dir,
# configured for PREFIX: the paths written into the unit and the config are PREFIX's.
INSTALL_BUILD ?= build
install: deps
	@cmake -S . -B $(INSTALL_BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(INSTALL_BUILD) -j$(JOBS) --target parleyd parleyctl parley_cli
	@DESTDIR=$(DESTDIR) cmake --install $(INSTALL_BUILD)

# A Debian package (dpkg-buildpackage + debhelper) in $(DEB_DIR)/.
deb:
	@scripts/install-deps.sh --deb
	@JOBS=$(JOBS) scripts/make-deb.sh $(DEB_DIR)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

# What make test checks first: folders include only what their layer allows, every
# allocation goes through core/mem.h, and the style.
check-shape:
	@scripts/check-layers.sh
	@scripts/check-alloc.sh
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz $(DEB_DIR)
