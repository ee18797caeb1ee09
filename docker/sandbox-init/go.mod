module faas.dev/sandbox-init

go 1.22
