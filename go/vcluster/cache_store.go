package vcluster

import (
	"slices"

	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
)

// CacheEvent is a change to an informer's cache, as handlers see it.
type CacheEvent struct {
	// Type is ADDED, MODIFIED or DELETED.
	Type     apiv1.WatchEventType
	VCluster *apiv1.VCluster
	// Previous is the cached object this change replaced (MODIFIED, DELETED).
	Previous *apiv1.VCluster
}

type cacheEntry struct {
	vcluster *apiv1.VCluster
	// order is when the id entered the cache: a re-list reports deletions in that order.
	order uint64
}

// cacheStore is the informer's copy of the server's vclusters, keyed by id (ids are never
// reused) with a namespace/name index. It applies only changes newer than what it holds, so
// listed state and replayed events merge in any overlap without going backwards. Not safe
// for concurrent use; the informer locks around it.
type cacheStore struct {
	byID     map[string]cacheEntry
	idByKey  map[string]string
	sequence uint64
}

func newCacheStore() *cacheStore {
	return &cacheStore{byID: map[string]cacheEntry{}, idByKey: map[string]string{}}
}

func storeKey(namespace, name string) string { return namespace + "/" + name }

func (s *cacheStore) get(namespace, name string) *apiv1.VCluster {
	id, ok := s.idByKey[storeKey(namespace, name)]
	if !ok {
		return nil
	}
	return s.byID[id].vcluster
}

func (s *cacheStore) list() []*apiv1.VCluster {
	out := make([]*apiv1.VCluster, 0, len(s.byID))
	for _, e := range s.ordered() {
		out = append(out, e.vcluster)
	}
	return out
}

func (s *cacheStore) ordered() []cacheEntry {
	entries := make([]cacheEntry, 0, len(s.byID))
	for _, e := range s.byID {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b cacheEntry) int {
		if a.order < b.order {
			return -1
		}
		return 1
	})
	return entries
}

// apply applies one watch event; ok is false when the event was stale.
func (s *cacheStore) apply(ev WatchEvent) (CacheEvent, bool) {
	incoming := ev.VCluster
	previous, had := s.byID[incoming.GetId()]
	if had && CompareResourceVersions(ResourceVersionOf(previous.vcluster), ev.ResourceVersion) >= 0 {
		return CacheEvent{}, false
	}
	if ev.Type == apiv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
		if !had {
			return CacheEvent{}, false
		}
		s.remove(previous.vcluster)
		return CacheEvent{Type: ev.Type, VCluster: incoming, Previous: previous.vcluster}, true
	}
	s.put(incoming)
	if had {
		return CacheEvent{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, VCluster: incoming, Previous: previous.vcluster}, true
	}
	return CacheEvent{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, VCluster: incoming}, true
}

// replace swaps in a fresh list and returns the changes a consumer of events missed:
// ADDED and MODIFIED in list order, then DELETED in the order the objects entered the cache.
func (s *cacheStore) replace(items []*apiv1.VCluster) []CacheEvent {
	var changes []CacheEvent
	fresh := make(map[string]bool, len(items))
	for _, item := range items {
		fresh[item.GetId()] = true
		previous, had := s.byID[item.GetId()]
		switch {
		case !had:
			s.put(item)
			changes = append(changes, CacheEvent{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, VCluster: item})
		case ResourceVersionOf(previous.vcluster) != ResourceVersionOf(item):
			s.put(item)
			changes = append(changes, CacheEvent{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, VCluster: item, Previous: previous.vcluster})
		}
	}
	return append(changes, s.retainOnly(fresh)...)
}

// retainOnly removes every object whose id is not in keep and returns the DELETED changes.
func (s *cacheStore) retainOnly(keep map[string]bool) []CacheEvent {
	var changes []CacheEvent
	for _, e := range s.ordered() {
		if keep[e.vcluster.GetId()] {
			continue
		}
		s.remove(e.vcluster)
		changes = append(changes, CacheEvent{Type: apiv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, VCluster: e.vcluster, Previous: e.vcluster})
	}
	return changes
}

func (s *cacheStore) put(item *apiv1.VCluster) {
	previous, had := s.byID[item.GetId()]
	order := previous.order
	if !had {
		s.sequence++
		order = s.sequence
	} else if previous.vcluster.GetNamespace() != item.GetNamespace() || previous.vcluster.GetName() != item.GetName() {
		s.dropKey(previous.vcluster)
	}
	s.byID[item.GetId()] = cacheEntry{vcluster: item, order: order}
	s.idByKey[storeKey(item.GetNamespace(), item.GetName())] = item.GetId()
}

func (s *cacheStore) remove(item *apiv1.VCluster) {
	delete(s.byID, item.GetId())
	s.dropKey(item)
}

func (s *cacheStore) dropKey(item *apiv1.VCluster) {
	key := storeKey(item.GetNamespace(), item.GetName())
	if s.idByKey[key] == item.GetId() {
		delete(s.idByKey, key)
	}
}
