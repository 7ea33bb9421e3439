// The map (MapLibre GL JS), loaded in its own chunk. Listings are a clustered GeoJSON source;
// clusters and listings are drawn as HTML buttons, so they need no glyph server (labels on a
// WebGL map would), can be reached with the keyboard and read by screen readers.
import { useEffect, useRef } from 'react';
import {
  AttributionControl, GeoJSONSource, LngLatBounds, Map as MlMap, Marker, NavigationControl, setWorkerCount, setWorkerUrl,
  type MapGeoJSONFeature,
} from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// The worker is a same-origin file with a hashed name: the CSP needs worker-src 'self' only.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { FeatureCollection, Point } from 'geojson';
import { baseStyle, INDIA_BOUNDS } from './basemap';
import type { BBox } from '../lib/searchState';

setWorkerUrl(workerUrl);
setWorkerCount(1);

export interface MapPoint {
  id: string;
  lat: number;
  lng: number;
  label: string; // on the marker (a short price)
  title: string; // for assistive tech
}

export interface MapViewProps {
  points: MapPoint[];
  /** The view to show first (e.g. the search's bbox); India when absent. */
  initialBounds?: BBox | undefined;
  /** One listing: centre on it, no clustering, no searching. */
  single?: boolean;
  /** After the person pans or zooms (not after the app moves the map). */
  onMoveEnd?: ((bbox: BBox) => void) | undefined;
  onSelect?: ((id: string) => void) | undefined;
  selectedId?: string | null | undefined;
  /** Frame the points whenever they change (when the search has no box of its own). */
  fitPoints?: boolean;
  label: string;
}

function fit(map: MlMap, points: MapPoint[]) {
  if (points.length === 0) return;
  const b = new LngLatBounds();
  for (const p of points) b.extend([p.lng, p.lat]);
  map.fitBounds(b, { padding: 48, maxZoom: 13, animate: false });
}

function toFeatures(points: MapPoint[]): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: points.map((p) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [p.lng, p.lat] },
      properties: { id: p.id, label: p.label, title: p.title },
    })),
  };
}

function boundsOf(map: MlMap): BBox {
  const b = map.getBounds();
  const clamp = (v: number, lim: number) => Math.max(-lim, Math.min(lim, v));
  return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)];
}

export default function MapView({ points, initialBounds, single = false, onMoveEnd, onSelect, selectedId, fitPoints = false, label }: MapViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MlMap | null>(null);
  const markers = useRef(new Map<string, Marker>());
  const handlers = useRef({ onMoveEnd, onSelect });
  handlers.current = { onMoveEnd, onSelect };
  const selected = useRef(selectedId);
  selected.current = selectedId;
  const pointsRef = useRef(points);
  pointsRef.current = points;
  const fitRef = useRef(fitPoints);
  fitRef.current = fitPoints;

  useEffect(() => {
    if (!container.current) return;
    const first = points[0];
    const map = new MlMap({
      container: container.current,
      style: baseStyle(),
      ...(single && first
        ? { center: [first.lng, first.lat] as [number, number], zoom: 12 }
        : { bounds: (initialBounds ?? INDIA_BOUNDS) as [number, number, number, number] }),
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      cooperativeGestures: false,
      maxBounds: [[55, -5], [110, 45]],
    });
    map.touchZoomRotate.disableRotation();
    map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new AttributionControl({ compact: true }), 'bottom-right');
    mapRef.current = map;
    const live = markers.current;

    map.on('load', () => {
      // The points of now, not of the first render: results that arrived while the style
      // loaded (the effect below found no source yet) would otherwise never be drawn.
      map.addSource('listings', {
        type: 'geojson',
        data: toFeatures(pointsRef.current),
        cluster: !single,
        clusterRadius: 48,
        clusterMaxZoom: 14,
      });
      // An invisible layer keeps the source's tiles loaded so querySourceFeatures sees them.
      map.addLayer({ id: 'listings-anchor', type: 'circle', source: 'listings', paint: { 'circle-radius': 0, 'circle-opacity': 0 } });
      if (fitRef.current && !single) fit(map, pointsRef.current);
      draw();
    });

    let frame = 0;
    const draw = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => drawNow());
    };
    const drawNow = () => {
      if (!map.getSource('listings')) return;
      const seen = new Set<string>();
      for (const f of map.querySourceFeatures('listings') as MapGeoJSONFeature[]) {
        const props = f.properties ?? {};
        const coords = (f.geometry as Point).coordinates as [number, number];
        const isCluster = props.cluster === true || props.cluster === 'true';
        const key = isCluster ? `c${String(props.cluster_id)}` : `p${String(props.id)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let m = live.get(key);
        if (!m) {
          const el = document.createElement('button');
          el.type = 'button';
          if (isCluster) {
            const count = Number(props.point_count);
            el.className = 'map-cluster';
            el.textContent = String(props.point_count_abbreviated ?? count);
            el.setAttribute('aria-label', `${count} listings here; zoom in`);
            const id = Number(props.cluster_id);
            el.addEventListener('click', (ev) => {
              ev.stopPropagation();
              const src = map.getSource('listings') as GeoJSONSource;
              void src.getClusterExpansionZoom(id).then((zoom) => {
                map.easeTo({ center: coords, zoom: Math.min(zoom, 16) }, { fromUser: true });
              });
            });
          } else {
            el.className = 'map-pin';
            el.textContent = String(props.label ?? '');
            el.setAttribute('aria-label', `${String(props.title ?? 'Listing')}, ${String(props.label ?? '')}`);
            const id = String(props.id);
            el.dataset.id = id;
            el.addEventListener('click', (ev) => {
              ev.stopPropagation();
              handlers.current.onSelect?.(id);
            });
          }
          m = new Marker({ element: el, anchor: isCluster ? 'center' : 'bottom' }).setLngLat(coords).addTo(map);
          live.set(key, m);
        }
        const el = m.getElement();
        el.classList.toggle('selected', !isCluster && el.dataset.id === selected.current);
      }
      for (const [key, m] of live) {
        if (!seen.has(key)) {
          m.remove();
          live.delete(key);
        }
      }
    };
    map.on('sourcedata', (e) => {
      if (e.sourceId === 'listings' && e.isSourceLoaded) draw();
    });
    map.on('moveend', (e) => {
      draw();
      const fromUser = Boolean((e as { originalEvent?: unknown }).originalEvent || (e as { fromUser?: boolean }).fromUser);
      if (fromUser) handlers.current.onMoveEnd?.(boundsOf(map));
    });

    return () => {
      cancelAnimationFrame(frame);
      for (const m of live.values()) m.remove();
      live.clear();
      map.remove();
      mapRef.current = null;
    };
    // The map is made once; points and view changes are applied by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // New results: replace the source's data (markers follow through 'sourcedata').
  useEffect(() => {
    const map = mapRef.current;
    const src = map?.getSource('listings') as GeoJSONSource | undefined;
    if (!map || !src) return;
    for (const m of markers.current.values()) m.remove();
    markers.current.clear();
    void src.setData(toFeatures(points));
    if (fitPoints && !single) fit(map, points);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [points]);

  // The search's box changed from outside the map (a shared link, the back button): follow it.
  const boundsKey = initialBounds?.join(',');
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !initialBounds || single) return;
    const current = boundsOf(map).map((v) => v.toFixed(3)).join(',');
    if (current === initialBounds.map((v) => v.toFixed(3)).join(',')) return;
    map.fitBounds(new LngLatBounds([initialBounds[0], initialBounds[1]], [initialBounds[2], initialBounds[3]]), { animate: false });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [boundsKey]);

  useEffect(() => {
    for (const m of markers.current.values()) {
      const el = m.getElement();
      if (el.dataset.id) el.classList.toggle('selected', el.dataset.id === selectedId);
    }
  }, [selectedId]);

  return <div ref={container} className="map" role="region" aria-label={label} />;
}
