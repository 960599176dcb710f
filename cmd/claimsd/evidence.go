package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/media"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// uploadBurst is how many uploads a shopper or seller may make at once
// before CLAIMSD_UPLOADS_PER_MINUTE paces them: a claim's files at filing.
const uploadBurst = evidence.DefaultMaxFiles

// evidenceService builds the evidence use cases on the configured blob
// store: this engine's database unless CLAIMSD_EVIDENCE_STORE=s3, whose
// bucket must exist.
//
// A rights holder's reads of a counterfeit's photos go to the
// intelligence access log.
func evidenceService(ctx context.Context, cfg config.Config, db *database, claims *claimflow.Service,
	intelligence *intelflow.Service, log *slog.Logger) (*evidenceflow.Service, error) {
	var blobs evidenceflow.Blobs = blobstore.NewPostgres(db.Pool())
	if cfg.EvidenceStore == "s3" {
		s3, err := blobstore.NewS3(ctx, blobstore.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, Secure: !cfg.S3Insecure})
		if err != nil {
			return nil, fmt.Errorf("evidence store (CLAIMSD_S3_*): %w", err)
		}
		blobs = s3
	}
	return evidenceflow.NewService(db.Store, claims, blobs, media.Reader{}, evidenceflow.Config{
		Limits:  evidence.Limits{MaxBytes: cfg.EvidenceMaxBytes, MaxFiles: cfg.EvidenceMaxFiles},
		Limiter: claimflow.NewClaimLimiter(cfg.UploadsPerMinute, uploadBurst, time.Now),
		Logger:  log,
		Audit:   intelligence.RecordAccess,
	}, time.Now), nil
}
