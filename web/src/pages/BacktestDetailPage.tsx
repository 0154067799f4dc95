export default function BacktestDetailPage(_p: Record<string, unknown>) {
  return null;
}
