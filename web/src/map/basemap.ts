// The basemap works offline: a hand-simplified India outline and the seed cities bundled with
// the app (india.json, made by tools/india_outline.py), drawn without any fetch. A raster tile
// URL for production comes from <meta name="restinu-tile-url"> (set by whoever serves
// index.html) or VITE_TILE_URL at build time; its origin must then be allowed by the CSP.
import type { FeatureCollection } from 'geojson';
import type { StyleSpecification } from 'maplibre-gl';
import india from './india.json';

function meta(name: string): string {
  if (typeof document === 'undefined') return '';
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim() ?? '';
}

export function tileConfig(): { url: string; attribution: string } | null {
  const url = meta('restinu-tile-url') || (import.meta.env.VITE_TILE_URL as string | undefined) || '';
  if (!url) return null;
  const attribution = meta('restinu-tile-attribution') || (import.meta.env.VITE_TILE_ATTRIBUTION as string | undefined) || '';
  return { url, attribution };
}

export const INDIA_BOUNDS: [number, number, number, number] = [67.5, 6.3, 97.8, 37.3];

export function baseStyle(): StyleSpecification {
  const tiles = tileConfig();
  const style: StyleSpecification = {
    version: 8,
    sources: {
      india: {
        type: 'geojson',
        data: india as FeatureCollection,
        attribution: 'Outline: REST-iN-U, simplified; not an official boundary',
      },
    },
    layers: [
      { id: 'sea', type: 'background', paint: { 'background-color': '#d6e6f2' } },
    ],
  };
  if (tiles) {
    style.sources.tiles = {
      type: 'raster',
      tiles: [tiles.url],
      tileSize: 256,
      ...(tiles.attribution ? { attribution: tiles.attribution } : {}),
    };
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
  } else {
    style.layers.push({
      id: 'land',
      type: 'fill',
      source: 'india',
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#f5f1e6' },
    });
  }
  style.layers.push(
    {
      id: 'border',
      type: 'line',
      source: 'india',
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'line-color': '#7a6f5c', 'line-width': 1.2 },
    },
    {
      id: 'cities',
      type: 'circle',
      source: 'india',
      filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 3, 'circle-color': '#7a6f5c', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
    },
  );
  return style;
}
