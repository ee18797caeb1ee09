// The loop keeper: faas runs this helper once per local service, in a container given only
// CAP_SYS_ADMIN and the loop devices, to back each environment's /tmp with a disk file. Over a
// unix socket it takes the path of a pre-formatted ext4 image, binds it to a free loop device
// with AUTOCLEAR, answers the device's name (the engine then mounts it as the environment's
// volume) and holds it until the connection closes: once mounted, the mount holds the device and
// AUTOCLEAR frees it when the engine unmounts it; never mounted (or the service gone), it is
// freed at once. Nothing is left attached however faas ends.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const (
	loopCtlGetFree   = 0x4C82
	loopConfigure    = 0x4C0A
	loopSetFd        = 0x4C00
	loopSetStatus64  = 0x4C04
	loFlagsAutoclear = 4
)

// struct loop_info64 (linux/loop.h)
type loopInfo64 struct {
	Device, Inode, Rdevice, Offset, SizeLimit  uint64
	Number, EncryptType, EncryptKeySize, Flags uint32
	FileName                                   [64]byte
	CryptName                                  [64]byte
	EncryptKey                                 [32]byte
	Init                                       [2]uint64
}

// struct loop_config (linux/loop.h, kernel 5.8+)
type loopConfig struct {
	Fd, BlockSize uint32
	Info          loopInfo64
	Reserved      [8]uint64
}

func ioctl(fd uintptr, request uintptr, arg uintptr) (uintptr, syscall.Errno) {
	r, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, request, arg)
	return r, errno
}

// deviceNode makes /dev/loopN in the container (its /dev has only what docker put there).
func deviceNode(n int) (string, error) {
	path := fmt.Sprintf("/dev/loop%d", n)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	major, minor := 7, n
	if text, err := os.ReadFile(fmt.Sprintf("/sys/class/block/loop%d/dev", n)); err == nil {
		parts := strings.Split(strings.TrimSpace(string(text)), ":")
		if len(parts) == 2 {
			major, _ = strconv.Atoi(parts[0])
			minor, _ = strconv.Atoi(parts[1])
		}
	}
	dev := (minor & 0xff) | (major&0xfff)<<8 | (minor&^0xff)<<12
	if err := syscall.Mknod(path, syscall.S_IFBLK|0600, dev); err != nil && !os.IsExist(err) {
		return "", err
	}
	return path, nil
}

// attach binds the image to a free loop device with AUTOCLEAR; the returned file keeps it bound.
func attach(image string) (string, *os.File, error) {
	backing, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return "", nil, err
	}
	defer backing.Close()
	control, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return "", nil, err
	}
	defer control.Close()
	for attempt := 0; attempt < 20; attempt++ {
		n, errno := ioctl(control.Fd(), loopCtlGetFree, 0)
		if errno != 0 {
			return "", nil, errno
		}
		path, err := deviceNode(int(n))
		if err != nil {
			return "", nil, err
		}
		device, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return "", nil, err
		}
		config := loopConfig{Fd: uint32(backing.Fd())}
		config.Info.Flags = loFlagsAutoclear
		copy(config.Info.FileName[:], image)
		_, errno = ioctl(device.Fd(), loopConfigure, uintptr(unsafe.Pointer(&config)))
		if errno == syscall.EINVAL || errno == syscall.ENOTTY {
			// Before Linux 5.8: bind, then set the flags.
			if _, errno = ioctl(device.Fd(), loopSetFd, backing.Fd()); errno == 0 {
				if _, errno = ioctl(device.Fd(), loopSetStatus64, uintptr(unsafe.Pointer(&config.Info))); errno != 0 {
					device.Close()
					return "", nil, errno
				}
			}
		}
		if errno == syscall.EBUSY {
			device.Close() // taken by someone else between GET_FREE and the bind: ask again
			continue
		}
		if errno != 0 {
			device.Close()
			return "", nil, errno
		}
		return path, device, nil
	}
	return "", nil, fmt.Errorf("no free loop device")
}

func serve(conn net.Conn) {
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	path, device, err := attach(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintf(conn, "error %v\n", err)
		return
	}
	defer device.Close()
	fmt.Fprintf(conn, "%s\n", path)
	// Held until faas closes the connection (after the environment's container has started).
	buf := make([]byte, 64)
	for {
		if _, err := conn.Read(buf); err != nil {
			return
		}
	}
}

// loopKeeper serves `socket` (owned by uid:gid, mode 0600) until killed.
func loopKeeper(args []string) {
	if len(args) != 3 {
		fail("usage: --faas-loop-keeper SOCKET UID GID")
	}
	socket := args[0]
	uid, _ := strconv.Atoi(args[1])
	gid, _ := strconv.Atoi(args[2])
	os.Remove(socket)
	listener, err := net.Listen("unix", socket)
	if err != nil {
		fail("listen on %s: %v", socket, err)
	}
	if err := os.Chown(socket, uid, gid); err != nil {
		fail("chown %s: %v", socket, err)
	}
	if err := os.Chmod(socket, 0600); err != nil {
		fail("chmod %s: %v", socket, err)
	}
	fmt.Println("ready")
	for {
		conn, err := listener.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		go serve(conn)
	}
}
