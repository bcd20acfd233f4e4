// Command opdeploy brings up, observes and operates multi-node systems
// described in Starlark subject files.
package main

import "os"

func main() { os.Exit(Main()) }
