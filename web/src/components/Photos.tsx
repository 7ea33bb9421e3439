import type { ListingImage } from '../api/types';

/** A listing's photos: WebP where the browser takes it, JPEG otherwise, 320 or 1280 px by width. */
export function Photos({ images, title }: { images: ListingImage[]; title: string }) {
  if (images.length === 0) return <p className="muted">No photos yet.</p>;
  return (
    <ul className="photos">
      {images.map((img, i) => {
        const webp = img.renditions.filter((r) => r.format === 'webp').sort((a, b) => a.width - b.width);
        const jpg = img.renditions.filter((r) => r.format === 'jpg').sort((a, b) => a.width - b.width);
        const fallback = jpg[0] ?? webp[0];
        if (!fallback) return null;
        const srcset = (rs: typeof webp) => rs.map((r) => `${r.url} ${r.width}w`).join(', ');
        const sizes = '(min-width: 960px) 480px, 100vw';
        return (
          <li key={img.id}>
            <picture>
              {webp.length > 0 && <source type="image/webp" srcSet={srcset(webp)} sizes={sizes} />}
              <img
                src={fallback.url}
                srcSet={jpg.length ? srcset(jpg) : undefined}
                sizes={sizes}
                width={fallback.width}
                height={fallback.height}
                loading={i === 0 ? 'eager' : 'lazy'}
                decoding="async"
                alt={`Photo ${i + 1} of ${images.length}: ${title}`}
              />
            </picture>
          </li>
        );
      })}
    </ul>
  );
}
