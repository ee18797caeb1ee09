// faas-sandbox-init: the entry point faas mounts read-only into every local function container.
// It needs nothing from the image (static, no shell): it fetches the function's variables once
// from its environment's own Runtime API (which serves only this container's address), then
// execs the image's real entry point and command, given as its arguments.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "faas-sandbox-init: "+format+"\n", args...)
	os.Exit(127)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--faas-loop-keeper" {
		loopKeeper(os.Args[2:])
		return
	}
	if len(os.Args) < 2 {
		fail("no command to run: the image has no ENTRYPOINT or CMD and the function no ImageConfig")
	}
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		fail("AWS_LAMBDA_RUNTIME_API is not set")
	}
	// Long-polls: answers once the environment is handed its function (at once when not prepared ahead).
	client := &http.Client{Timeout: 0}
	var res *http.Response
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		res, err = client.Get("http://" + api + "/2018-06-01/faas/sandbox/env")
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		fail("cannot reach the Runtime API at %s: %v", api, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		fail("the Runtime API gave no variables (HTTP %d): %s", res.StatusCode, strings.TrimSpace(string(body)))
	}
	var vars map[string]string
	if err := json.Unmarshal(body, &vars); err != nil {
		fail("the Runtime API's variables are not JSON: %v", err)
	}
	for k, v := range vars {
		os.Setenv(k, v)
	}
	path, err := exec.LookPath(os.Args[1])
	if err != nil {
		fail("exec %q: %v", os.Args[1], err)
	}
	err = syscall.Exec(path, os.Args[1:], os.Environ())
	fail("exec %q: %v", path, err)
}
