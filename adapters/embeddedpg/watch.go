package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Watch keeps the server running while ctx lasts. When PostgreSQL has
// stopped under this process (killed, crashed, or stopped by hand), it
// starts it again in the same directory on the same port, so the
// connections the engine opens next reach it as before. It looks every
// interval; a server it cannot start again is logged, reported by Problem
// and tried again at the next look. Stop ends the watching too.
//
// restarted, when not nil, is called once a server that stopped runs again
// (started by this process or by another one using the cluster), so the
// caller can drop the connections the old server left broken.
//
//	go srv.Watch(ctx, time.Second, pool.Reset)
func (s *Server) Watch(ctx context.Context, every time.Duration, restarted func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	var reported string
	// The postmaster Start saw, not the one running at Watch's first look:
	// one that died in between is a restart too.
	lastPid := s.startedPid
	if lastPid == 0 {
		lastPid = s.postmasterPid()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.keepRunning(ctx)
		if err != nil && ctx.Err() != nil {
			return // shutting down while it waited its turn: nothing started
		}
		s.problemMu.Lock()
		s.problem = err
		s.problemMu.Unlock()
		if pid := s.postmasterPid(); err == nil && pid != 0 && pid != lastPid {
			if lastPid != 0 {
				if restarted != nil {
					restarted()
				}
				s.log.Warn("the embedded postgres had stopped; it runs again", "dir", s.dir, "port", s.port,
					"log", filepath.Join(s.dir, logFile))
			}
			lastPid = pid
		}
		switch {
		case err == nil:
			reported = ""
		case err.Error() != reported:
			// Once per distinct failure, not once a second.
			reported = err.Error()
			s.log.Error("the embedded postgres stopped and could not be started again; trying again every "+every.String(),
				"err", err)
		}
	}
}

// Problem says why Watch could not start the server again, or nil when it
// runs (or nobody watches it). Its message says what to do.
func (s *Server) Problem() error {
	s.problemMu.Lock()
	defer s.problemMu.Unlock()
	return s.problem
}

// keepRunning starts the server again if its postmaster is gone.
func (s *Server) keepRunning(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.serving() {
		return nil
	}
	unlock, err := lockStart(ctx, filepath.Join(s.dir, lockFile))
	if err != nil {
		return err
	}
	defer unlock()
	// Another process using the cluster may have started it meanwhile.
	pidPath := filepath.Join(s.pgdata, "postmaster.pid")
	pf, err := readPidFile(pidPath)
	switch {
	case err == nil && ownsDataDir(pf.pid, s.pgdata):
		if pf.port == s.port {
			return nil
		}
		return fmt.Errorf("the embedded PostgreSQL in %s was started again on port %d, but this process connects to port %d: "+
			"restart this process", s.dir, pf.port, s.port)
	case !errors.Is(err, fs.ErrNotExist):
		if err := s.clearStalePid(ctx, pidPath, pf, err); err != nil {
			return err
		}
	}
	if !portFree(s.port) {
		return fmt.Errorf("the embedded PostgreSQL in %s stopped, and its port %d is now used by another program: "+
			"free the port, or restart this process to pick another", s.dir, s.port)
	}
	if s.run.owner != nil {
		if err := chownTree(s.pgdata, s.run.owner); err != nil {
			return err
		}
	}
	// A start that has begun finishes even if the engine begins shutting
	// down meanwhile (pg_ctl's own timeout bounds it): broken off, it
	// would stop the server again, under every other process using it.
	if err := s.startCluster(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the embedded PostgreSQL in %s again: %w", s.dir, err)
	}
	return nil
}

// postmasterPid is the process id of the postmaster serving the cluster on
// our port, or 0 when none does.
func (s *Server) postmasterPid() int {
	pf, err := readPidFile(filepath.Join(s.pgdata, "postmaster.pid"))
	if err != nil || pf.port != s.port || !ownsDataDir(pf.pid, s.pgdata) {
		return 0
	}
	return pf.pid
}

// serving reports whether a live postmaster serves the cluster on our port.
func (s *Server) serving() bool {
	pf, err := readPidFile(filepath.Join(s.pgdata, "postmaster.pid"))
	return err == nil && pf.port == s.port && ownsDataDir(pf.pid, s.pgdata)
}
