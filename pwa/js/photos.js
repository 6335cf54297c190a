// Photos are shrunk on the phone: the longest side at most 1600 px, JPEG, drawn through a canvas
// (which also drops the camera's EXIF metadata, location included).
export const MAX_SIDE = 1600;
const QUALITY = 0.82;

async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (_) {
      /* some browsers refuse the options or the type: fall back to <img> */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function shrink(file) {
  const source = await decode(file);
  const width = source.naturalWidth || source.width;
  const height = source.naturalHeight || source.height;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const hgt = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = hgt;
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff"; // transparent PNGs become white, not black, in JPEG
  g.fillRect(0, 0, w, hgt);
  g.drawImage(source, 0, 0, w, hgt);
  if (typeof source.close === "function") source.close();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/jpeg", QUALITY),
  );
  return { blob, width: w, height: hgt };
}
