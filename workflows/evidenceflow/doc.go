// Package evidenceflow holds the evidence use cases: a claim's shopper,
// or the seller charged for it, uploads a photo or document; the engine
// recognises it from its bytes, removes its metadata, stores it in a blob
// store and records it on the claim; the people who may see it list and
// download it. Every front door (the JSON API, the console) calls this
// service.
package evidenceflow
