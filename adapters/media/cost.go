package media

import "github.com/claimsd/claimsd/domain/evidence"

// What decoding an image for its thumbnail takes, estimated from its
// header so the engine can budget the memory before it decodes (Go's
// decoders hold the whole image, and some much more): Info.DecodeBytes.
// Each figure is what the standard decoders allocate, measured, with a
// margin; TestDecodeCostCoversDecoding holds them to what a decode
// really allocates.

// costMargin covers the decoders' smaller buffers and the allocator's
// rounding.
const costMargin = 1 << 20

// scaleCost is what scaling to a thumbnail side pixels long adds: the
// scaler's two-pass buffer, 32 bytes for each source row of each target
// column.
func scaleCost(w, h int) int64 {
	dw := int64(evidence.ThumbSide)
	if h > w {
		dw = int64(evidence.ThumbSide) * int64(w) / int64(h)
	}
	return 32 * dw * int64(h)
}

// jpegCost is a JPEG's: one byte a sample of each component (its
// sampling factors say how many), four more a sample for a progressive
// JPEG's coefficients, and an RGB copy when Adobe's marker says the
// components are RGB rather than YCbCr.
func jpegCost(w, h int, progressive, rgb bool, sampling [][2]int) int64 {
	hmax, vmax := 1, 1
	for _, s := range sampling {
		hmax, vmax = max(hmax, s[0]), max(vmax, s[1])
	}
	// Blocks are 8×8 and a component's are padded to whole MCUs.
	mcuW, mcuH := int64(8*hmax), int64(8*vmax)
	padded := (int64(w) + mcuW - 1) / mcuW * mcuW * ((int64(h) + mcuH - 1) / mcuH * mcuH)
	var samples int64
	for _, s := range sampling {
		samples += padded * int64(s[0]*s[1]) / int64(hmax*vmax)
	}
	cost := samples
	if progressive {
		cost += 4 * samples
	}
	if rgb {
		cost += 4 * int64(w) * int64(h)
	}
	return cost + cost/8 + scaleCost(w, h) + costMargin
}

// pngCost is a PNG's: the decoded image at its bytes a pixel (8 for
// 16-bit colour, 4 for 8-bit colour, 1 or 2 for grey, 1 for a palette),
// and the passes of an interlaced one as much again.
func pngCost(w, h int, depth, colorType byte, interlaced bool) int64 {
	bpp := int64(4)
	switch colorType {
	case 0: // grey
		bpp = 1
		if depth == 16 {
			bpp = 2
		}
	case 3: // palette
		bpp = 1
	default: // RGB, grey with alpha, RGBA: decoded to 4 bytes, or 8 at 16 bits
		if depth == 16 {
			bpp = 8
		}
	}
	cost := bpp * int64(w) * int64(h)
	if interlaced {
		cost *= 2
	}
	return cost + cost/8 + scaleCost(w, h) + costMargin
}

// webpCost is a WebP's: lossy frames decode to YCbCr 4:2:0 (with an
// alpha plane: 2.5 bytes a pixel), lossless ones to NRGBA through a
// buffer of the same size.
func webpCost(w, h int, lossless bool) int64 {
	cost := 5 * int64(w) * int64(h) / 2
	if lossless {
		cost = 8 * int64(w) * int64(h)
	}
	return cost + cost/8 + scaleCost(w, h) + costMargin
}
