// A harness for GitLab runner's log masking chain, for scripts/bench: it builds the chain the
// runner's build logger builds for a job's output (phrase masker, then URL sanitizer, then token
// sanitizer with the default prefixes) and pipes standard input through it in 64 KiB writes to
// standard output. The phrases are the values of the environment variables whose names start
// with BENCH_SECRET_, as the runner masks the values of masked variables.
//
// scripts/bench copies the three masker packages from a gitlab-runner checkout beside this file
// (GITLAB_RUNNER_SRC) and builds it; none of the runner's code is kept in this repository.
package main

import (
	"io"
	"os"
	"sort"
	"strings"

	"runnerchain/masker"
	"runnerchain/tokensanitizer"
	"runnerchain/urlsanitizer"
)

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// unique trims, drops empty values and duplicates, and orders by length then bytes, as the
// runner's internal.Unique does.
func unique(values []string) [][]byte {
	for i, v := range values {
		values[i] = strings.TrimSpace(v)
	}
	sort.Slice(values, func(i, j int) bool {
		if len(values[i]) != len(values[j]) {
			return len(values[i]) < len(values[j])
		}
		return values[i] < values[j]
	})
	var out [][]byte
	for i, v := range values {
		if v == "" || (i > 0 && v == values[i-1]) {
			continue
		}
		out = append(out, []byte(v))
	}
	return out
}

func main() {
	var phrases []string
	for _, kv := range os.Environ() {
		if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "BENCH_SECRET_") {
			phrases = append(phrases, value)
		}
	}
	var w io.WriteCloser = nopCloser{os.Stdout}
	w = tokensanitizer.New(w, unique(tokensanitizer.DefaultTokenPrefixes(true)))
	w = urlsanitizer.New(w)
	w = masker.New(w, unique(phrases))
	// The struct hides any WriterTo, so every write is one 64 KiB read.
	if _, err := io.CopyBuffer(w, struct{ io.Reader }{os.Stdin}, make([]byte, 64*1024)); err != nil {
		os.Exit(1)
	}
	if err := w.Close(); err != nil {
		os.Exit(1)
	}
}
