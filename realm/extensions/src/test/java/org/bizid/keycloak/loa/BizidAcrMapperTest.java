package org.bizid.keycloak.loa;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

class BizidAcrMapperTest {

    private static final Map<String, Integer> LEVELS = Map.of("aal1", 1, "aal2", 2);

    @Test
    void statesTheLevelReachedNotTheLevelRequested() {
        assertEquals("aal2", BizidAcrMapper.acrFor(LEVELS, 2));
        assertEquals("aal1", BizidAcrMapper.acrFor(LEVELS, 1));
    }

    @Test
    void neverOverstates() {
        assertEquals("aal2", BizidAcrMapper.acrFor(LEVELS, 3));
        assertEquals("0", BizidAcrMapper.acrFor(LEVELS, 0));
        assertEquals("1", BizidAcrMapper.acrFor(Map.of(), 1));
    }
}
