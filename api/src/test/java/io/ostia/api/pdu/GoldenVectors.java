package io.ostia.api.pdu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads the captured PDUs in src/test/resources/golden (format: see the README there). */
record GoldenVectors(String scenario, List<Vector> vectors) {

    static final List<String> SCENARIOS = List.of("discovery", "readcapacity", "inquiry-header-digest", "data-digest",
            "write-r2t",
            "task-management", "nop", "chap");

    /** One captured PDU; {@code sender} is the side that sent it. */
    record Vector(int line, Side sender, boolean headerDigest, boolean dataDigest, byte[] bytes) {
        PduDecoder receiver() {
            PduDecoder decoder = new PduDecoder(sender.peer(), PduChecks.MAX_DATA_SEGMENT_LENGTH);
            decoder.setHeaderDigest(headerDigest);
            decoder.setDataDigest(dataDigest);
            return decoder;
        }

        PduEncoder encoder() {
            return new PduEncoder(headerDigest, dataDigest);
        }

        int opcodeCode() {
            return bytes[0] & 0x3f;
        }
    }

    static GoldenVectors load(String scenario) {
        String resource = "/golden/" + scenario + ".txt";
        try (InputStream in = GoldenVectors.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            List<Vector> vectors = new ArrayList<>();
            String[] lines = new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n");
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.split(" ");
                vectors.add(new Vector(i + 1, fields[0].equals("I") ? Side.INITIATOR : Side.TARGET,
                        fields[1].equals("1"), fields[2].equals("1"), HexFormat.of().parseHex(fields[3])));
            }
            return new GoldenVectors(scenario, vectors);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<Vector> withOpcode(Opcode opcode) {
        return vectors.stream().filter(v -> v.opcodeCode() == opcode.code()).toList();
    }
}
